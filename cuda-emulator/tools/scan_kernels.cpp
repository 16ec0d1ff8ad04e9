// Build-time generator of an emulator kernel library: reads .cu files, finds every
// `extern "C" __global__ void name(` and the shared memory each kernel declares, and writes a C++
// file that includes the sources unchanged (through cuda_shim.h), defines their extern __shared__
// arrays and registers every kernel with its static shared-memory size.
//
//   scan_kernels SET OUT.cpp OUT.tsv FILE.cu...
//
// Rules (strict, so that the table cannot silently be wrong): a kernel starts at a line beginning
// `extern "C" __global__ void NAME(` and ends at the next line beginning with `}`; a static
// `__shared__ TYPE NAME;` or `__shared__ TYPE NAME[N];` (N a decimal literal) counts towards the
// kernel it is written in, laid out in order with each variable aligned to its type's size and the
// total rounded up to 16 bytes (at least what ptxas reports, at most 15 bytes more); `extern __shared__ TYPE NAME[];` may appear anywhere. A __shared__ declaration in any
// other form, or a static one outside a kernel, stops the build with the file and line.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Kernel {
  std::string name;
  std::string file;
  int line;
  int static_shared = 0;
};

[[noreturn]] void die(const std::string& file, int line, const std::string& message) {
  fprintf(stderr, "%s:%d: scan_kernels: %s\n", file.c_str(), line, message.c_str());
  exit(1);
}

int type_size(const std::string& type) {
  static const std::map<std::string, int> sizes = {
      {"char", 1},          {"unsigned char", 1}, {"signed char", 1},  {"short", 2},
      {"unsigned short", 2}, {"int", 4},          {"unsigned int", 4}, {"unsigned", 4},
      {"float", 4},         {"long long", 8},     {"unsigned long long", 8}, {"double", 8},
      {"int2", 8},          {"float2", 8},        {"float4", 16},      {"int4", 16},
  };
  auto it = sizes.find(type);
  return it == sizes.end() ? -1 : it->second;
}

// Removes // and /* */ comments (keeps line structure) and string contents are left as they are.
std::vector<std::string> code_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string current;
  bool block = false;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (c == '\n') {
      lines.push_back(current);
      current.clear();
      continue;
    }
    if (block) {
      if (c == '*' && i + 1 < text.size() && text[i + 1] == '/') {
        block = false;
        i++;
      }
      continue;
    }
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i + 1 < text.size() && text[i + 1] != '\n') i++;
      continue;
    }
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      block = true;
      i++;
      continue;
    }
    current += c;
  }
  if (!current.empty()) lines.push_back(current);
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: scan_kernels SET OUT.cpp OUT.tsv FILE.cu...\n");
    return 2;
  }
  std::string set = argv[1];
  std::string out_cpp = argv[2];
  std::string out_tsv = argv[3];
  std::vector<std::string> files(argv + 4, argv + argc);

  const std::regex kernel_re(R"(^extern "C" __global__ void ([A-Za-z_][A-Za-z0-9_]*)\()");
  const std::regex dynamic_re(R"(^\s*extern\s+__shared__\s+([A-Za-z_][A-Za-z0-9_ ]*?)\s+([A-Za-z_][A-Za-z0-9_]*)\s*\[\s*\]\s*;\s*$)");
  const std::regex static_re(R"(^\s*__shared__\s+([A-Za-z_][A-Za-z0-9_ ]*?)\s+([A-Za-z_][A-Za-z0-9_]*)\s*(\[\s*([0-9]+)\s*\])?\s*;\s*$)");

  std::vector<Kernel> kernels;
  std::set<std::string> names;
  std::vector<std::pair<std::string, std::string>> dynamic;  // (type, name)
  std::set<std::string> dynamic_names;
  for (const std::string& file : files) {
    std::ifstream in(file);
    if (!in) die(file, 0, "cannot read the file");
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::vector<std::string> lines = code_lines(buffer.str());
    Kernel* current = nullptr;
    int offset = 0;
    for (size_t i = 0; i < lines.size(); i++) {
      const std::string& line = lines[i];
      int number = (int)i + 1;
      std::smatch m;
      if (std::regex_search(line, m, kernel_re)) {
        if (!names.insert(m[1]).second) die(file, number, "a second kernel named " + m[1].str());
        kernels.push_back(Kernel{m[1], file, number, 0});
        current = &kernels.back();
        offset = 0;
        continue;
      }
      if (!line.empty() && line[0] == '}') {
        current = nullptr;
        continue;
      }
      if (line.find("__shared__") == std::string::npos) continue;
      if (std::regex_match(line, m, dynamic_re)) {
        if (type_size(m[1]) < 0) die(file, number, "unknown shared-memory type '" + m[1].str() + "'");
        if (dynamic_names.insert(m[2]).second) dynamic.push_back({m[1], m[2]});
        continue;
      }
      if (std::regex_match(line, m, static_re)) {
        if (current == nullptr) {
          die(file, number, "a static __shared__ variable outside a kernel body: the emulator's shared-memory table "
                            "attributes each one to the kernel it is written in");
        }
        int size = type_size(m[1]);
        if (size < 0) die(file, number, "unknown shared-memory type '" + m[1].str() + "'");
        long count = m[4].matched ? atol(m[4].str().c_str()) : 1;
        offset = (offset + size - 1) / size * size;
        offset += (int)(size * count);
        // ptxas may pad further (it aligns variables it reads as vectors), so the table rounds the
        // total up to 16 bytes: never less than a card would need
        current->static_shared = (offset + 15) / 16 * 16;
        continue;
      }
      die(file, number, "a __shared__ declaration the emulator's scanner does not understand (write it as "
                        "`__shared__ TYPE NAME[N];` or `extern __shared__ TYPE NAME[];` on one line)");
    }
  }
  if (kernels.empty()) die(files.front(), 0, "no extern \"C\" __global__ kernels found");

  std::ofstream cpp(out_cpp);
  cpp << "// Generated by cuda-emulator/tools/scan_kernels.cpp: the kernel set '" << set
      << "' for the CUDA emulator. Do not edit.\n";
  cpp << "#include \"cuda_shim.h\"\n";
  for (const std::string& file : files) cpp << "#include \"" << file << "\"\n";
  cpp << "#include \"kernel_registry.h\"\n\n";
  cpp << "#define RECJPQ_EMU_DYNAMIC_BYTES (227 * 1024)\n";
  cpp << "#define RECJPQ_EMU_DYNAMIC_SLACK 256\n";
  for (const auto& d : dynamic) {
    cpp << "alignas(16) thread_local " << d.first << " " << d.second << "[(RECJPQ_EMU_DYNAMIC_BYTES + "
        << "RECJPQ_EMU_DYNAMIC_SLACK) / sizeof(" << d.first << ")];\n";
  }
  cpp << "\nnamespace {\nvoid* dynamic_array(int index) {\n  switch (index) {\n";
  for (size_t i = 0; i < dynamic.size(); i++) {
    cpp << "    case " << i << ": return static_cast<void*>(" << dynamic[i].second << ");\n";
  }
  cpp << "    default: return nullptr;\n  }\n}\n\n";
  cpp << "const recjpq_emu::KernelInfo kKernels[] = {\n";
  for (const Kernel& k : kernels) cpp << "    RECJPQ_EMU_KERNEL(" << k.name << ", " << k.static_shared << "),\n";
  cpp << "};\n}  // namespace\n\n";
  cpp << "extern \"C\" __attribute__((visibility(\"default\"))) const recjpq_emu::KernelLibrary "
         "recjpq_emu_kernel_library = {\n    \""
      << set << "\", kKernels, " << kernels.size() << ", " << dynamic.size()
      << ", &dynamic_array, RECJPQ_EMU_DYNAMIC_BYTES};\n";
  if (!cpp) {
    fprintf(stderr, "scan_kernels: cannot write %s\n", out_cpp.c_str());
    return 1;
  }

  std::ofstream tsv(out_tsv);
  tsv << "# kernel\tstatic_shared_bytes\tsource\n";
  for (const Kernel& k : kernels) {
    std::string base = k.file.substr(k.file.find_last_of('/') + 1);
    tsv << k.name << "\t" << k.static_shared << "\t" << base << ":" << k.line << "\n";
  }
  return tsv ? 0 : 1;
}
