# assay_scorer(NAME <name> SOURCES <src...> [DATA <file...>] [TESTS <test.cpp...>])
#
# Declares scorers/<name>/ as an OBJECT library (so the linker keeps its
# self-registration), embeds its DATA files into the binary (readable with
# assay::embedded_file("<name>/<file>")), and adds its TESTS to the unit-test
# binary. Called from scorers/<name>/CMakeLists.txt.
add_library(assay_all_scorers INTERFACE)
set_property(GLOBAL PROPERTY ASSAY_SCORER_TESTS "")

function(assay_embed_files target prefix)
  foreach(f IN LISTS ARGN)
    get_filename_component(abs ${f} ABSOLUTE)
    string(MAKE_C_IDENTIFIER "${prefix}/${f}" ident)
    set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${ident}.cpp)
    add_custom_command(
      OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -DIN=${abs} -DOUT=${out} -DKEY=${prefix}/${f} -DIDENT=${ident}
              -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake
      DEPENDS ${abs} ${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake
      COMMENT "Embedding ${prefix}/${f}")
    target_sources(${target} PRIVATE ${out})
  endforeach()
endfunction()

function(assay_scorer)
  cmake_parse_arguments(S "" "NAME" "SOURCES;DATA;TESTS" ${ARGN})
  set(lib assay_scorer_${S_NAME})
  add_library(${lib} OBJECT ${S_SOURCES})
  target_link_libraries(${lib} PUBLIC assay_core)
  target_include_directories(${lib} PUBLIC ${PROJECT_SOURCE_DIR}/scorers)
  target_compile_options(${lib} PRIVATE ${ASSAY_WARNINGS})
  if(S_DATA)
    assay_embed_files(${lib} ${S_NAME} ${S_DATA})
  endif()
  target_link_libraries(assay_all_scorers INTERFACE ${lib} $<TARGET_OBJECTS:${lib}>)
  if(S_TESTS)
    # Each scorer's tests run on their own (test_scorer_<name>) so a failure
    # points at one folder.
    add_executable(test_scorer_${S_NAME} ${S_TESTS} ${PROJECT_SOURCE_DIR}/tests/doctest_main.cpp)
    target_link_libraries(test_scorer_${S_NAME} PRIVATE ${lib} assay_core doctest::doctest)
    target_include_directories(test_scorer_${S_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
    target_compile_options(test_scorer_${S_NAME} PRIVATE ${ASSAY_WARNINGS})
    target_compile_definitions(test_scorer_${S_NAME} PRIVATE
      ASSAY_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    add_test(NAME scorer.${S_NAME} COMMAND test_scorer_${S_NAME})
  endif()
endfunction()
