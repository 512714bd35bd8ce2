# lethe_add_plugin(NAME SOURCE...): build a Lethe plugin, NAME.so, from C
# sources against lethe/plugin.h (the target Lethe::plugin). Symbols are
# hidden except those marked LETHE_PLUGIN_EXPORT, so that the plugin
# exports only lethe_plugin_abi and lethe_plugin_init.
function(lethe_add_plugin name)
  if(NOT ARGN)
    message(FATAL_ERROR "lethe_add_plugin(${name}) needs source files")
  endif()
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE Lethe::plugin)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    C_STANDARD 17
    C_VISIBILITY_PRESET hidden)
endfunction()
