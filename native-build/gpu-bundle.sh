#!/usr/bin/env bash
# Makes the self-contained device-check bundle (docs/architecture.md §7), run HERE (a build machine with JDK 17
# jmods, Maven, nvcc and python3):
#
#   native-build/gpu-bundle.sh [--no-build] [--tar]
#
# Output: target/gpu-bundle/ (git-ignored), which is copied to the GPU machine with the working tree
# (target/gpu-bundle), where native-build/gpu-check.sh runs it. Layout:
#   runtime/            jlink'ed Java 17 (only the modules jdeps finds, see MODULES below)
#   recjpq.jar recjpq-tests.jar
#   lib/*.jar           runtime dependencies, native parts trimmed to linux-x86_64 and to what
#                       is used (see trim_jar)
#   junit-platform-console-standalone-<v>.jar
#   gpu-check.sh BUNDLE.txt
# It fails if the CUDA kernels are missing from the jar or the bundle is 60 MiB or larger.
#
# Environment: RECJPQ_BUNDLE_KEEP_MODULES=1 keeps every module jdeps reports (java.desktop and
# java.sql included, about +18 MiB); RECJPQ_BUNDLE_LIMIT_MIB overrides the 60 MiB limit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { echo "[gpu-bundle] $*"; }
die() { echo "[gpu-bundle] ERROR: $*" >&2; exit 1; }

build=1
tarball=0
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --tar) tarball=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown argument '$arg' (use --no-build, --tar)." ;;
  esac
done

junit_console_version=1.14.4
limit_mib="${RECJPQ_BUNDLE_LIMIT_MIB:-60}"
java_home="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
[ -d "$java_home/jmods" ] || die "no jmods in $java_home: jlink needs a full JDK 17 (set JAVA_HOME)."
command -v python3 >/dev/null || die "python3 is needed to trim the native jars."
jlink="$java_home/bin/jlink"
jdeps="$java_home/bin/jdeps"

# 1. Build: jar, test jar and dependency list. The kernels must be in the jar.
if [ "$build" = 1 ]; then
  say "mvn -q -DskipTests package"
  mvn -q -DskipTests package
fi
jar_file=target/recjpq.jar
tests_jar=target/recjpq-tests.jar
[ -f "$jar_file" ] || die "$jar_file is missing: the Maven package step did not produce it."
[ -f "$tests_jar" ] || die "$tests_jar is missing: the Maven package step did not produce it."
fatbin=org/recjpq/backend/cuda/recjpq.fatbin
python3 - "$jar_file" "$fatbin" <<'EOF' || die "the CUDA kernels are not in $jar_file ($fatbin is missing): nvcc must be on the PATH when the bundle is built."
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
sys.exit(0 if sys.argv[2] in names else 1)
EOF

work=target/gpu-bundle-work
rm -rf "$work" target/gpu-bundle target/gpu-bundle.tar.gz
mkdir -p "$work"
mvn -q dependency:build-classpath -DincludeScope=runtime -Dmdep.outputFile="$work/classpath.txt" \
  >/dev/null || die "mvn dependency:build-classpath failed."
mvn -q dependency:copy \
  -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_console_version" \
  -DoutputDirectory="$work" >/dev/null || die "could not fetch the JUnit console launcher."
console_jar="junit-platform-console-standalone-$junit_console_version.jar"
[ -f "$work/$console_jar" ] || die "$console_jar was not fetched."

bundle=target/gpu-bundle
mkdir -p "$bundle/lib"
cp "$tests_jar" "$work/$console_jar" "$bundle/"
# recjpq.jar without the CUDA emulator's libraries: the bundle runs on a real GPU, where the fake
# driver is never wanted (and its 1 MiB would not fit the budget)
python3 - "$jar_file" "$bundle/recjpq.jar" <<'EOF' || die "could not copy $jar_file without the emulator."
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as zin, zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
    for info in zin.infolist():
        if not info.filename.startswith("org/recjpq/backend/cuda/emulator/"):
            zout.writestr(info, zin.read(info.filename), zipfile.ZIP_DEFLATED, 9)
EOF
cp native-build/gpu-check.sh "$bundle/gpu-check.sh"
chmod +x "$bundle/gpu-check.sh"
cp benchmarks/pytorch_sasrec_jpq.py "$bundle/"
# The ML-1M file for the check's short GPU training run. It goes into the build folder's bundle only
# (target/ is never committed): the dataset's licence forbids redistributing it with the project.
if [ -f ../shared/data/ml-1m/ml-1m.txt ]; then
  mkdir -p "$bundle/data"
  python3 -c 'import lzma, sys; open(sys.argv[2], "wb").write(lzma.compress(open(sys.argv[1], "rb").read(),
      preset=9 | lzma.PRESET_EXTREME))' ../shared/data/ml-1m/ml-1m.txt "$bundle/data/ml-1m.txt.xz"   # 1.8 MiB, not 8.6
else
  say "no ../shared/data/ml-1m/ml-1m.txt: the check's GPU training run will be skipped."
fi

# 2. Dependency jars, native parts trimmed to what the CUDA engine and the CPU reference load:
#    - jcuda-natives: libJCudaDriver only (the driver API; no runtime, NVRTC or PTX compiler).
#    - Bytedeco cuda natives: libjnicudart, libjnicublas, libjnicudnn. Loading
#      org.bytedeco.cuda.global.cudnn loads, through its presets' 'inherit' chain, cudart, then
#      cublas, then cudnn; their link libraries (libcudart.so.13, libcublas*.so.13,
#      libcudnn*.so.9) come from the machine. Checked with -Dorg.bytedeco.javacpp.logger.debug.
#    - Bytedeco openblas natives: libjniopenblas_nolapack and the preloads of openblas_nolapack
#      (libopenblas.so.0, libgfortran.so.5, libquadmath.so.0, libgcc_s.so.1); the LAPACK JNI
#      libraries (libjniopenblas, libjniopenblas_full, ~48 MB) and headers go.
#    - JUnit jars go: the console launcher carries its own engine.
trim_jar() { # source target keep-regex
  python3 - "$1" "$2" "$3" <<'EOF'
import re, sys, zipfile
source, target, keep = sys.argv[1], sys.argv[2], re.compile(sys.argv[3])
with zipfile.ZipFile(source) as zin:
    kept = [i for i in zin.infolist()
            if not i.is_dir() and (i.filename.startswith(("META-INF/maven/", "META-INF/versions/"))
                                   or i.filename == "META-INF/MANIFEST.MF" or keep.search(i.filename))]
    dirs = sorted({n[: k + 1] for n in (i.filename for i in kept)
                   for k in range(len(n)) if n[k] == "/"})
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for d in dirs:
            zout.writestr(zipfile.ZipInfo(d), b"")
        for info in kept:
            zout.writestr(info, zin.read(info.filename), zipfile.ZIP_DEFLATED, 9)
print(f"  trimmed {source.rsplit('/', 1)[-1]}: kept {len(kept)} files")
EOF
}
IFS=":" read -r -a dependencies < "$work/classpath.txt" || true  # no final newline
for dep in "${dependencies[@]}"; do
  name="$(basename "$dep")"
  case "$name" in
    junit-*|opentest4j-*|apiguardian-*) continue ;;
    jfreechart-*) continue ;;  # plots need java.desktop, which the runtime leaves out: the report skips them
    jcuda-natives-*-linux-x86_64.jar)
      trim_jar "$dep" "$bundle/lib/$name" '^lib/libJCudaDriver-[^/]*\.so$' ;;
    cuda-*-linux-x86_64.jar)
      trim_jar "$dep" "$bundle/lib/$name" '/linux-x86_64/libjni(cudart|cublas|cudnn)\.so$' ;;
    openblas-*-linux-x86_64.jar)
      trim_jar "$dep" "$bundle/lib/$name" \
        '/linux-x86_64/(libjniopenblas_nolapack\.so|libopenblas\.so\.0|libgfortran\.so\.5|libquadmath\.so\.0|libgcc_s\.so\.1)$' ;;
    *-natives-*|*-linux-arm64.jar|*-macosx-*|*-windows-*)
      die "unexpected native jar $name: add a trim rule for it to gpu-bundle.sh." ;;
    *) cp "$dep" "$bundle/lib/$name" ;;
  esac
done

# 2b. Pure-Java libraries of which we call a corner (statistics, a dense SVD, codecs, the HTTP
#     server): only the classes the other bundled jars reach, transitively, are kept: every class
#     a class file's constant pool or descriptors name, every string constant spelling a class name
#     (reflective loads), every implementation a META-INF/services file lists; resources stay.
#     commons-math3 goes from 2.1 MiB to 0.4. Step 5 runs the CPU tests that use them (the HTTP
#     server's included) from the bundle to prove nothing is missing.
closure_jars=()
for j in "$bundle"/lib/commons-math3-*.jar "$bundle"/lib/commons-codec-*.jar "$bundle"/lib/commons-io-*.jar \
    "$bundle"/lib/ejml-*.jar "$bundle"/lib/jetty-*.jar; do
  [ -f "$j" ] && closure_jars+=("$j")
done
if [ "${#closure_jars[@]}" -gt 0 ]; then
  python3 - "${#closure_jars[@]}" "${closure_jars[@]}" "$bundle"/*.jar "$bundle"/lib/*.jar <<'EOF2' \
    || die "could not trim the pure-Java libraries to the classes used."
import os, re, struct, sys, zipfile
n = int(sys.argv[1])
trimmed = sys.argv[2:2 + n]
others = [j for j in sys.argv[2 + n:] if j not in trimmed]
descriptor = re.compile(rb"L([A-Za-z0-9_$/]+);")
dotted = re.compile(rb"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+\.[A-Z][A-Za-z0-9_$]*$")
def refs(data):
    """Every class a class file names: its constant pool's classes and the types in its descriptors."""
    count, pos, utf8, found = struct.unpack(">H", data[8:10])[0], 10, {}, set()
    class_idx = []
    i = 1
    while i < count:
        tag = data[pos]
        if tag == 1:
            length = struct.unpack(">H", data[pos + 1:pos + 3])[0]
            utf8[i] = data[pos + 3:pos + 3 + length]
            pos += 3 + length
        elif tag == 7:
            class_idx.append(struct.unpack(">H", data[pos + 1:pos + 3])[0])
            pos += 3
        elif tag in (8, 16, 19, 20):
            pos += 3
        elif tag == 15:
            pos += 4
        elif tag in (3, 4, 9, 10, 11, 12, 17, 18):
            pos += 5
        elif tag in (5, 6):
            pos += 9
            i += 1
        else:
            raise ValueError(f"constant pool tag {tag}")
        i += 1
    for k in class_idx:
        name = utf8[k].lstrip(b"[")
        found.add(name[1:-1] if name.startswith(b"L") else name)
    for u in utf8.values():
        found.update(descriptor.findall(u))
        if dotted.match(u):
            found.add(u.replace(b".", b"/"))
    return {f.decode("utf-8", "replace") for f in found}
def services(jar):
    """The implementations a jar's META-INF/services files list (ServiceLoader loads them by name)."""
    with zipfile.ZipFile(jar) as z:
        for i in z.infolist():
            if i.filename.startswith("META-INF/services/") and not i.is_dir():
                for line in z.read(i.filename).decode("utf-8", "replace").splitlines():
                    line = line.split("#")[0].strip()
                    if line:
                        yield line.replace(".", "/")
def classes_of(jar):
    with zipfile.ZipFile(jar) as z:
        for i in z.infolist():
            if i.filename.endswith(".class") and not i.filename.startswith("META-INF/") \
                    and i.filename != "module-info.class":
                yield i.filename[:-6], z.read(i.filename)
graph = {}
for j in trimmed:
    for name, data in classes_of(j):
        graph[name] = refs(data)
todo = [r for j in others for _, data in classes_of(j) for r in refs(data) if r in graph]
todo += [c for j in sys.argv[2:] for c in services(j) if c in graph]
keep = set()
while todo:
    c = todo.pop()
    if c in keep or c not in graph:
        continue
    keep.add(c)
    todo.extend(graph[c])
    todo.append(c.split("$")[0])  # a nested class needs its outer class
for j in trimmed:
    tmp = j + ".trim"
    n_in = n_out = 0
    with zipfile.ZipFile(j) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for i in zin.infolist():
            if i.is_dir():
                continue
            name = i.filename
            if name.endswith(".class") and not name.startswith("META-INF/") and name != "module-info.class":
                n_in += 1
                if name[:-6] not in keep:
                    continue
                n_out += 1
            zout.writestr(i, zin.read(name), zipfile.ZIP_DEFLATED, 9)
    before = os.path.getsize(j)
    os.replace(tmp, j)
    print(f"  trimmed {os.path.basename(j)}: {n_out} of {n_in} classes, {before >> 10} KiB -> {os.path.getsize(j) >> 10} KiB")
EOF2
fi

# 3. The Java runtime: the modules jdeps finds in the bundled jars (each analysed with the others
#    on the class path), plus two that jdeps cannot see: jdk.unsupported (JavaCPP's
#    sun.misc.Unsafe, looked up reflectively) and jdk.zipfs (the "jar" file system provider, a
#    service the JUnit console launcher needs to scan recjpq-tests.jar).
#    Dropped unless RECJPQ_BUNDLE_KEEP_MODULES=1: java.desktop (+14 MiB; only jackson-databind's
#    optional java.beans support and commons-math3's geometry use it) and java.sql (+4 MiB with
#    java.xml; only optional paths of jackson, commons-csv and the console launcher's picocli).
#    The device check and the gpu tests use neither, and running them from the bundle here
#    proves it.
all_jars="$(ls "$bundle"/*.jar "$bundle"/lib/*.jar | tr '\n' ':')"
modules="jdk.unsupported,jdk.zipfs"
for jar in "$bundle"/*.jar "$bundle"/lib/*.jar; do
  found="$("$jdeps" --print-module-deps --ignore-missing-deps --multi-release base \
    --class-path "$all_jars" "$jar" 2>/dev/null | tail -1 || true)"
  # Empty for a jar without classes; a stack trace where jdeps cannot analyse a modular jar
  # (progressbar), whose needs (java.base, jline) are covered by the other jars.
  if [[ "$found" =~ ^[a-z0-9.,]+$ ]]; then
    modules="$modules,$found"
  fi
done
modules="$(echo "$modules" | tr ',' '\n' | sort -u | tr '\n' ',' | sed 's/,$//')"
say "jdeps: $modules"
if [ "${RECJPQ_BUNDLE_KEEP_MODULES:-0}" != 1 ]; then
  modules="$(echo "$modules" | tr ',' '\n' | grep -vxE 'java\.desktop|java\.sql' | tr '\n' ',' \
    | sed 's/,$//')"
fi
say "jlink --add-modules $modules"
"$jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 \
  --output "$bundle/runtime"
# The symbol table of libjvm.so (~4 MB) only names JVM-internal frames in crash logs.
if command -v strip >/dev/null; then
  strip --strip-unneeded "$bundle/runtime/lib/server/libjvm.so" || say "strip failed; kept."
fi
# jlink links identical legal notices to each other; real files travel everywhere.
find "$bundle/runtime" -type l | while read -r link; do
  target="$(readlink -f "$link")"
  rm "$link"
  cp "$target" "$link"
done
"$bundle/runtime/bin/java" -version 2>&1 | sed 's/^/  /'

# 4. Manifest and size.
{
  echo "recjpq GPU bundle (docs/architecture.md §7), made by native-build/gpu-bundle.sh"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty working tree)')"
  echo "java: $("$bundle/runtime/bin/java" -version 2>&1 | head -1)"
  echo "modules: $modules"
  echo "kernels: $(python3 -c "import sys,zipfile;print(zipfile.ZipFile(sys.argv[1]).getinfo(sys.argv[2]).file_size)" "$jar_file" "$fatbin") bytes of fatbin"
  echo "run: bash gpu-check.sh   (or, from the repository root: bash native-build/gpu-check.sh)"
  echo "files:"
  (cd "$bundle" && find . -type f ! -path './runtime/*' -printf '  %10s  %P\n' | sort -k2)
  echo "  $(du -sb "$bundle/runtime" | cut -f1)  runtime/ (jlink image)"
} > "$bundle/BUNDLE.txt"

size="$(du -sb "$bundle" | cut -f1)"
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
say "bundle: $bundle, $(mib "$size")"
printf '  %-46s %s\n' "runtime/ (jlink)" "$(mib "$(du -sb "$bundle/runtime" | cut -f1)")"
for f in "$bundle"/*.jar "$bundle"/lib/*.jar; do
  printf '  %-46s %s\n' "${f#"$bundle"/}" "$(mib "$(stat -c %s "$f")")"
done | sort -t$'\t' -k1,1
# 5. The trimmed libraries hold what the code reaches: the CPU tests that use them (statistics,
#    SVD, CSV, the HTTP server, the CLI's error paths) run from the bundle's runtime and jars.
say "CPU tests of the trimmed libraries, from the bundle"
selected=()
for c in org.recjpq.eval.PairedSignificanceTest org.recjpq.codes.RandomizedSvdTest org.recjpq.codes.TsqrTest \
    org.recjpq.codes.CodeAssignersTest org.recjpq.data.InteractionReadersTest org.recjpq.cli.HardeningTest \
    org.recjpq.serve.HttpSlowClientsTest; do
  selected+=(--select-class "$c")
done
"$bundle/runtime/bin/java" -jar "$bundle/$console_jar" execute --disable-banner --details=summary \
  --fail-if-no-tests --class-path "$bundle/recjpq.jar:$bundle/recjpq-tests.jar:$(ls "$bundle"/lib/*.jar | tr '\n' ':')" \
  "${selected[@]}" > "$work/self-test.log" 2>&1 \
  || { tail -40 "$work/self-test.log" >&2; die "CPU tests failed when run from the bundle (a trimmed class missing?)."; }
grep -E "tests (successful|failed)" "$work/self-test.log" | sed 's/^/  /'
if [ "$tarball" = 1 ]; then
  tar -czf target/gpu-bundle.tar.gz -C target gpu-bundle
  say "tarball: target/gpu-bundle.tar.gz, $(mib "$(stat -c %s target/gpu-bundle.tar.gz)")"
fi
rm -rf "$work"
if [ "$size" -ge $((limit_mib * 1048576)) ]; then
  die "the bundle is $(mib "$size"), not under the $limit_mib MiB limit."
fi
say "OK: under the $limit_mib MiB limit. On a GPU machine: bash native-build/gpu-check.sh (with target/gpu-bundle copied along)."
