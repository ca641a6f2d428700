# The one curated warning list. Every target of the project gets it, and every
# warning is an error. Third-party headers come in as SYSTEM includes.
set(GR_WARNINGS
    -Wall
    -Wextra
    -Wpedantic
    -Wshadow
    -Wstrict-prototypes
    -Wmissing-prototypes
    -Wvla
    -Wwrite-strings
    -Wformat=2
    -Wpointer-arith
    -Wcast-qual
    -Wundef
    -Wimplicit-fallthrough
    -Wnull-dereference
    -Wold-style-definition
    -Werror)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    list(APPEND GR_WARNINGS -Wlogical-op -Wduplicated-cond)
endif()
