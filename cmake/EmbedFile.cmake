# Turns the file IN into a C++ source OUT that registers its bytes under KEY.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR nbytes "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT}
"#include \"core/embedded_files.h\"\n"
"namespace {\n"
"const unsigned char k_data[] = {${bytes} 0};\n"
"const bool k_registered = assay::register_embedded_file(\"${KEY}\", "
"std::string_view(reinterpret_cast<const char*>(k_data), ${nbytes}));\n"
"}  // namespace\n")
