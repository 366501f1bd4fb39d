# Send-confirmation speed (issue 8): signatures verified per second in the detector, 200,000
# messages from 2,000 enrolled users (MT_BENCH_ENFORCE=1: at least 5,000 per second).
# Included from tests/bench/CMakeLists.txt.
add_executable(bench_confirm ${CMAKE_CURRENT_LIST_DIR}/bench_confirm.cpp)
target_link_libraries(bench_confirm PRIVATE mt_model)
add_test(NAME bench_confirm COMMAND bench_confirm)
set_tests_properties(bench_confirm PROPERTIES LABELS "bench" TIMEOUT 1800 RUN_SERIAL TRUE)
