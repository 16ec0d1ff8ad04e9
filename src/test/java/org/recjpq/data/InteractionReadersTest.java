package org.recjpq.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.recjpq.RecjpqException;

class InteractionReadersTest {
  @TempDir Path dir;

  private Path file(String name, String content) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, content);
    return p;
  }

  private static SequenceDataset read(Path p, ReadOptions o) {
    return DatasetBuilder.build(InteractionReaders.read(p, o), FilterOptions.NONE);
  }

  /** External ids of user {@code user}'s items, oldest first. */
  private static String[] itemsOf(SequenceDataset ds, String user) {
    int u = ds.users().indexOf(user);
    assertTrue(u >= 0, "user " + user + " missing");
    String[] s = new String[ds.length(u)];
    for (int k = 0; k < s.length; k++) {
      s[k] = ds.items().externalId(ds.item(u, k));
    }
    return s;
  }

  private static RecjpqException fails(Path p, ReadOptions o) {
    return assertThrows(RecjpqException.class, () -> InteractionReaders.read(p, o));
  }

  @Test
  void sasrecPairsKeepLineOrderAndSortIdsNumerically() throws IOException {
    Path p = file("pairs.txt", "2 10\n1 9\n2 3\n\n1 10\n2 9\n");
    SequenceDataset ds = read(p, ReadOptions.of(Format.SASREC_PAIRS));
    assertEquals(2, ds.numUsers());
    assertEquals(3, ds.numItems());
    assertArrayEquals(new String[] {"10", "3", "9"}, itemsOf(ds, "2"));
    assertArrayEquals(new String[] {"9", "10"}, itemsOf(ds, "1"));
    // internal ids follow numeric order: 3 < 9 < 10
    assertEquals(0, ds.items().indexOf("3"));
    assertEquals(2, ds.items().indexOf("10"));
    assertEquals(0, ds.users().indexOf("1"));
  }

  @Test
  void sasrecPairsRejectAThirdFieldWithFileAndLine() throws IOException {
    Path p = file("pairs.txt", "1 2\n1 3 4\n");
    RecjpqException e = fails(p, ReadOptions.of(Format.SASREC_PAIRS));
    assertTrue(e.getMessage().startsWith(p + ":2: expected 'user item'"), e.getMessage());
    assertTrue(e.getMessage().contains("found '1 3 4'"), e.getMessage());
  }

  @Test
  void sasrecPairsRejectNonNumericIds() throws IOException {
    Path p = file("pairs.txt", "1 2\n1 2\nx1 3\n");
    RecjpqException e = fails(p, ReadOptions.of(Format.SASREC_PAIRS));
    assertTrue(e.getMessage().startsWith(p + ":3: expected an integer user id"), e.getMessage());
    assertTrue(e.getMessage().contains("found 'x1'"), e.getMessage());
  }

  @Test
  void userLinesReadEveryItemInOrder() throws IOException {
    Path p = file("lines.txt", "7 5 4 3\n3 1 2\n");
    SequenceDataset ds = read(p, ReadOptions.of(Format.USER_LINES));
    assertArrayEquals(new String[] {"5", "4", "3"}, itemsOf(ds, "7"));
    assertArrayEquals(new String[] {"1", "2"}, itemsOf(ds, "3"));
    assertEquals(5, ds.numItems());
  }

  @Test
  void userLinesRejectAUserWithoutItems() throws IOException {
    Path p = file("lines.txt", "1 2 3\n2\n");
    RecjpqException e = fails(p, ReadOptions.of(Format.USER_LINES));
    assertTrue(
        e.getMessage().startsWith(p + ":2: expected 'user item1 item2 ...'"), e.getMessage());
  }

  @Test
  void movieLensRatingsDatSortsByTimeAndKeepsFileOrderOnTies() throws IOException {
    Path p = file("ratings.dat", "1::30::5::300\n1::10::3::100\n1::20::4::300\n1::40::4::200\n");
    SequenceDataset ds = read(p, ReadOptions.of(Format.MOVIELENS));
    // 100 -> 10, 200 -> 40, then the two at 300 in file order: 30 before 20
    assertArrayEquals(new String[] {"10", "40", "30", "20"}, itemsOf(ds, "1"));
  }

  @Test
  void movieLensUDataUsesTabs() throws IOException {
    Path p = file("u.data", "5\t1\t3\t881250949\n5\t2\t3\t881250940\n6\t1\t4\t1\n");
    SequenceDataset ds = read(p, ReadOptions.of(Format.MOVIELENS));
    assertArrayEquals(new String[] {"2", "1"}, itemsOf(ds, "5"));
  }

  @Test
  void movieLensRejectsWrongFieldCountAndBadTimestamp() throws IOException {
    Path p = file("ratings.dat", "1::2::3::4\n1::2::3\n");
    assertTrue(
        fails(p, ReadOptions.of(Format.MOVIELENS))
            .getMessage()
            .startsWith(p + ":2: expected 'user::item::rating::timestamp'"));
    Path q = file("ratings2.dat", "1::2::3::yesterday\n");
    RecjpqException e = fails(q, ReadOptions.of(Format.MOVIELENS));
    assertTrue(
        e.getMessage().startsWith(q + ":1: expected an integer unix timestamp"), e.getMessage());
  }

  @Test
  void csvWithNamedColumnsQuotesAndIsoTimes() throws IOException {
    Path p =
        file(
            "log.csv",
            "ts,uid,sku,extra\n"
                + "2021-03-01T10:00:00Z,alice,\"b,1\",x\n"
                + "2021-02-01,alice,a9,y\n"
                + "2021-03-01 09:00:00,bob,a9,z\n"
                + "2021-01-01,bob,c3,w\n");
    SequenceDataset ds = read(p, new ReadOptions(Format.CSV, "uid", "sku", "ts", null));
    assertArrayEquals(new String[] {"a9", "b,1"}, itemsOf(ds, "alice"));
    assertArrayEquals(new String[] {"c3", "a9"}, itemsOf(ds, "bob"));
    assertFalse(ds.items().isNumeric());
  }

  @Test
  void csvWithoutTimeColumnKeepsFileOrderAndTabsAreGuessed() throws IOException {
    Path p = file("log.tsv", "user_id\titem_id\n2\t20\n1\t10\n2\t5\n");
    SequenceDataset ds = read(p, ReadOptions.of(Format.CSV));
    assertArrayEquals(new String[] {"20", "5"}, itemsOf(ds, "2"));
    assertTrue(ds.items().isNumeric(), "integer ids in a csv are ordered numerically");
  }

  @Test
  void csvUnknownColumnListsTheHeader() throws IOException {
    Path p = file("log.csv", "user,item\n1,2\n");
    RecjpqException e = fails(p, ReadOptions.of(Format.CSV));
    assertTrue(
        e.getMessage()
            .startsWith(p + ":1: no user column named 'user_id'; the header has [user, item]"),
        e.getMessage());
    assertTrue(e.getMessage().contains("--user-column"), e.getMessage());
  }

  @Test
  void csvRejectsMissingFieldsEmptyIdsAndBadTimes() throws IOException {
    Path p = file("log.csv", "user_id,item_id\n1,2\n3\n");
    assertTrue(
        fails(p, ReadOptions.of(Format.CSV)).getMessage().startsWith(p + ":3: expected 2 fields"));
    Path q = file("log2.csv", "user_id,item_id\n1,2\n,3\n");
    assertTrue(
        fails(q, ReadOptions.of(Format.CSV))
            .getMessage()
            .startsWith(q + ":3: expected non-empty user_id"));
    Path r = file("log3.csv", "user_id,item_id,t\n1,2,noon\n");
    RecjpqException e = fails(r, new ReadOptions(Format.CSV, null, null, "t", null));
    assertTrue(e.getMessage().startsWith(r + ":2: expected a time in column 't'"), e.getMessage());
  }

  @Test
  void bookingUsesTripsCitiesAndCheckinDates() throws IOException {
    Path p =
        file(
            "booking.csv",
            "user_id,checkin,checkout,city_id,device_class,affiliate_id,booker_country,hotel_country,utrip_id\n"
                + "1000027,2016-08-13,2016-08-14,8183,desktop,7168,Elbonia,Gondal,1000027_1\n"
                + "1000027,2016-08-10,2016-08-11,15626,desktop,7168,Elbonia,Gondal,1000027_1\n"
                + "1000033,2016-04-09,2016-04-11,38677,mobile,359,Gondal,Cobra Island,1000033_1\n");
    SequenceDataset ds = read(p, ReadOptions.of(Format.BOOKING));
    assertArrayEquals(new String[] {"15626", "8183"}, itemsOf(ds, "1000027_1"));
    assertEquals(2, ds.numUsers());
  }

  @Test
  void bookingWithoutItsColumnsSaysWhichIsMissing() throws IOException {
    Path p = file("booking.csv", "utrip_id,city\n1,2\n");
    RecjpqException e = fails(p, ReadOptions.of(Format.BOOKING));
    assertTrue(e.getMessage().contains("no item column named 'city_id'"), e.getMessage());
  }

  @Test
  void gowallaSortsReverseChronologicalCheckIns() throws IOException {
    Path p =
        file(
            "gowalla.txt",
            "0\t2010-10-19T23:55:27Z\t30.23\t-97.79\t22847\n"
                + "0\t2010-10-18T22:17:43Z\t30.26\t-97.75\t420315\n"
                + "1\t2010-10-17T23:42:03Z\t30.25\t-97.74\t316637\n");
    SequenceDataset ds = read(p, ReadOptions.of(Format.GOWALLA));
    assertArrayEquals(new String[] {"420315", "22847"}, itemsOf(ds, "0"));
  }

  @Test
  void gowallaRejectsBadTimesAndFieldCounts() throws IOException {
    Path p = file("gowalla.txt", "0\tlast tuesday\t30.23\t-97.79\t22847\n");
    assertTrue(
        fails(p, ReadOptions.of(Format.GOWALLA))
            .getMessage()
            .startsWith(p + ":1: expected an ISO-8601 check-in time"));
    Path q = file("gowalla2.txt", "0\t2010-10-19T23:55:27Z\t30.23\n");
    assertTrue(
        fails(q, ReadOptions.of(Format.GOWALLA))
            .getMessage()
            .startsWith(q + ":1: expected 'user<TAB>ISO-time"));
  }

  @Test
  void emptyBlankMissingAndDirectoryInputsAreClearErrors() throws IOException {
    Path empty = file("empty.txt", "");
    assertEquals(
        empty + " is empty: expected interactions.",
        fails(empty, ReadOptions.of(Format.SASREC_PAIRS)).getMessage());
    Path blank = file("blank.txt", "\n  \n");
    assertTrue(
        fails(blank, ReadOptions.of(Format.SASREC_PAIRS))
            .getMessage()
            .startsWith(blank + " holds no interactions"));
    Path missing = dir.resolve("nope.txt");
    assertEquals(
        "Cannot read " + missing + ": no such file.",
        fails(missing, ReadOptions.of(Format.SASREC_PAIRS)).getMessage());
    assertTrue(
        fails(dir, ReadOptions.of(Format.SASREC_PAIRS)).getMessage().contains("it is a directory"));
    Path headerOnly = file("h.csv", "user_id,item_id\n");
    assertTrue(
        fails(headerOnly, ReadOptions.of(Format.CSV))
            .getMessage()
            .startsWith(headerOnly + " holds no interactions"));
  }

  @Test
  void formatNamesRoundTrip() {
    for (Format f : Format.values()) {
      assertEquals(f, Format.fromCliName(f.cliName()));
    }
    assertThrows(RecjpqException.class, () -> Format.fromCliName("parquet"));
  }

  @Test
  void timesParseAsIntegersOrIso() {
    assertEquals(881250949L, InteractionReaders.parseTime("881250949"));
    assertEquals(0L, InteractionReaders.parseTime("1970-01-01T00:00:00Z"));
    assertEquals(86_400L, InteractionReaders.parseTime("1970-01-02"));
    assertEquals(3_600L, InteractionReaders.parseTime("1970-01-01T02:00:00+01:00"));
    assertEquals(60L, InteractionReaders.parseTime("1970-01-01 00:01:00"));
    assertEquals(Long.MIN_VALUE, InteractionReaders.parseTime("1.5"));
  }
}
