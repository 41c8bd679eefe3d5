# The layers of worker/ (worker/layers.txt): each folder is one library,
# assay_<folder>, linked with exactly the layers the table allows it, so a
# layer cannot call up. ci/check_layers.py checks the #include lines against
# the same table.
#
# assay_layer(<name> [OBJECT] [LIBS <third-party targets...>] SOURCES <src...>)
# Called from worker/<name>/CMakeLists.txt.

file(STRINGS ${PROJECT_SOURCE_DIR}/worker/layers.txt _assay_layer_lines REGEX "^[a-z_/]+:")
foreach(line IN LISTS _assay_layer_lines)
  string(REGEX MATCH "^([a-z_/]+):(.*)$" _ ${line})
  set(_name ${CMAKE_MATCH_1})
  string(STRIP "${CMAKE_MATCH_2}" _deps)
  separate_arguments(_deps UNIX_COMMAND "${_deps}")
  if(NOT _name MATCHES "/" AND NOT _name STREQUAL "scorers")
    list(APPEND ASSAY_LAYERS ${_name})
    set(ASSAY_LAYER_DEPS_${_name} ${_deps})
  endif()
endforeach()

add_library(assay_layers INTERFACE)

function(assay_layer name)
  cmake_parse_arguments(L "OBJECT" "" "SOURCES;LIBS" ${ARGN})
  set(lib assay_${name})
  if(L_OBJECT)
    add_library(${lib} OBJECT ${L_SOURCES})
  else()
    add_library(${lib} STATIC ${L_SOURCES})
  endif()
  target_include_directories(${lib} PUBLIC ${PROJECT_SOURCE_DIR}/worker)
  target_compile_options(${lib} PRIVATE ${ASSAY_WARNINGS})
  foreach(dep IN LISTS ASSAY_LAYER_DEPS_${name})
    target_link_libraries(${lib} PUBLIC assay_${dep})
  endforeach()
  if(L_LIBS)
    target_link_libraries(${lib} PUBLIC ${L_LIBS})
  endif()
  if(L_OBJECT)
    # An OBJECT layer (self-registering embedded files) hands its objects to
    # every consumer so the linker cannot drop them.
    target_link_libraries(assay_layers INTERFACE ${lib} $<TARGET_OBJECTS:${lib}>)
  else()
    target_link_libraries(assay_layers INTERFACE ${lib})
  endif()
endfunction()
