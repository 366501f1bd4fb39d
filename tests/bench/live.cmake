# Live monitoring (issue 10): the syslog replay tool and the load benchmark (2,000 lines/s of a
# simulated outbreak over syslog into `import --follow`: alert latency, RSS over time, lines
# lost). Included from tests/bench/CMakeLists.txt: include(${CMAKE_CURRENT_LIST_DIR}/live.cmake)
# BENCH_LIVE_SECONDS (default 120) sets the run's length; 3600 for the hour.
add_executable(replay_syslog ${CMAKE_CURRENT_LIST_DIR}/replay_syslog.cpp)
set_target_properties(replay_syslog PROPERTIES AUTOMOC OFF AUTORCC OFF AUTOUIC OFF)
if(TARGET mailtriage-cli)
  set(BENCH_LIVE_SECONDS 120 CACHE STRING "Length of the live benchmark in seconds")
  add_test(NAME bench_live
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/bench_live.sh $<TARGET_FILE:mailtriage-cli> $<TARGET_FILE:replay_syslog>
                   ${CMAKE_CURRENT_BINARY_DIR}/work-live ${BENCH_LIVE_SECONDS} 2000)
  set_tests_properties(bench_live PROPERTIES LABELS "bench" TIMEOUT 7200 RUN_SERIAL TRUE)
endif()
