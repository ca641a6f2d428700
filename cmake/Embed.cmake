# Turns the numbered migration files into a C array compiled into the binary.
# Called in script mode: cmake -DOUT=... -DDIR=... -P Embed.cmake
file(GLOB files "${DIR}/*.sql")
list(SORT files)
set(body "")
set(table "")
set(n 0)
foreach(f ${files})
    get_filename_component(name "${f}" NAME)
    string(REGEX MATCH "^[0-9]+" num "${name}")
    math(EXPR ver "${num}")
    file(READ "${f}" hex HEX)
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
    string(APPEND body "static const unsigned char m${n}[] = {${hex}0x00};\n")
    string(APPEND table "    {${ver}, \"${name}\", (const char *)m${n}},\n")
    math(EXPR n "${n} + 1")
endforeach()
file(WRITE "${OUT}.tmp"
"/* Generated from src/db/migrations by cmake/Embed.cmake. Do not edit. */\n"
"#include \"db/migrations.h\"\n${body}\n"
"const struct db_migration db_migrations[] = {\n${table}    {0, 0, 0}};\n"
"const int db_migrations_count = ${n};\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
