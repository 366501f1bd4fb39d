# Import speed of the traffic formats other than Postfix (issue 9: at least 100 MB/s each into
# the case). Included from tests/bench/CMakeLists.txt: include(${CMAKE_CURRENT_LIST_DIR}/importers.cmake)
add_executable(gen_traffic_logs ${CMAKE_CURRENT_LIST_DIR}/gen_traffic_logs.cpp)
set_target_properties(gen_traffic_logs PROPERTIES AUTOMOC OFF AUTORCC OFF AUTOUIC OFF)
if(TARGET mailtriage-cli)
  add_test(NAME bench_import_formats
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/bench_import_formats.sh
                   $<TARGET_FILE:gen_traffic_logs>
                   $<TARGET_FILE:mailtriage-cli>
                   ${CMAKE_CURRENT_BINARY_DIR}/work-formats)
  set_tests_properties(bench_import_formats PROPERTIES LABELS "bench" TIMEOUT 3600 RUN_SERIAL TRUE)
endif()
