# Command-line parsing (included from src/server/CMakeLists.txt). Kept apart
# from the server library so it builds and tests without the serving stack.
add_library(tessera_options ${CMAKE_CURRENT_LIST_DIR}/options.cc)
target_link_libraries(tessera_options PUBLIC tessera_repository tessera_common tessera_tls)
target_compile_definitions(tessera_options PRIVATE TESSERA_VERSION_STRING="${PROJECT_VERSION}")

tessera_test(options_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/options_test.cc
  LIBS tessera_options GTest::gmock)
