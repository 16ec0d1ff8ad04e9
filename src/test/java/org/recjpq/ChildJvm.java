package org.recjpq;

import java.io.File;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command that starts a second JVM on this one's classes (tests that need a process of their
 * own: a server, or a machine set up differently). It uses this JVM's Java, the class path that
 * loaded the tests (under Surefire the system class path, under the JUnit console launcher its
 * class loader's), and this JVM's {@code recjpq.*}, {@code org.bytedeco.javacpp.cachedir} and
 * {@code java.io.tmpdir} properties, with {@code properties} over them (an empty value removes
 * one). Not the paths the CUDA emulator gives Bytedeco's loader: they lead to this JVM's fakes.
 */
public final class ChildJvm {
  private ChildJvm() {}

  public static List<String> command(
      String mainClass, Map<String, String> properties, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    java.util.Map<String, String> props = new java.util.TreeMap<>();
    for (String name : System.getProperties().stringPropertyNames()) {
      if (name.startsWith("recjpq.")
          || name.equals("org.bytedeco.javacpp.cachedir")
          || name.equals("java.io.tmpdir")) {
        props.put(name, System.getProperty(name));
      }
    }
    props.putAll(properties);
    props.forEach(
        (k, v) -> {
          if (!v.isEmpty()) {
            command.add("-D" + k + "=" + v);
          }
        });
    command.add("-cp");
    command.add(classPath());
    command.add(mainClass);
    command.addAll(List.of(args));
    return command;
  }

  /** The class path of the test classes and their dependencies. */
  static String classPath() {
    Set<String> entries = new LinkedHashSet<>();
    for (ClassLoader l = ChildJvm.class.getClassLoader(); l != null; l = l.getParent()) {
      if (l instanceof URLClassLoader u) {
        for (URL url : u.getURLs()) {
          try {
            entries.add(Path.of(url.toURI()).toString());
          } catch (URISyntaxException | IllegalArgumentException e) {
            entries.add(url.getPath());
          }
        }
      }
    }
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!e.isEmpty()) {
        entries.add(e);
      }
    }
    return String.join(File.pathSeparator, entries);
  }
}
