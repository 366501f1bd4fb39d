# Timeline and campaign-tree reads on a synthetic million-message case (target: the timeline's
# whole read under 0.5 s per million messages; MT_BENCH_ENFORCE=1 enforces it).
# Included from tests/bench/CMakeLists.txt: include(${CMAKE_CURRENT_LIST_DIR}/timeline.cmake)
add_executable(bench_timeline ${CMAKE_CURRENT_LIST_DIR}/bench_timeline.cpp)
target_link_libraries(bench_timeline PRIVATE mt_model)
add_test(NAME bench_timeline COMMAND bench_timeline)
set_tests_properties(bench_timeline PROPERTIES LABELS "bench" TIMEOUT 1200 RUN_SERIAL TRUE)
