#pragma once
// Running approved recall requests (and, after a verdict, deleting or releasing what was
// suspended) against the destination servers. Worker-thread friendly: the runner owns nothing
// of the GUI, reports each request's result through a callback (called on the running
// thread), and stops between requests when the cancel flag is set. Each request is marked
// 'requested' (committed) before the server is asked, so a crash or a kill leaves requests
// that the next run resumes; connectors are idempotent, so a resumed request never moves a
// message twice. Unreachable servers are retried with exponential backoff; after the last
// attempt the rest of that server's requests in the run are marked unreachable at once.
#include "RecallStore.h"
#include "ServerDirectory.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mt::recall {

class DemoWorld;

enum class RunAction { Recall, Delete, Release };
const char* runActionName(RunAction a);

struct RequestResult {
    std::int64_t requestId = 0;
    std::string server, recipient, messageKey, connector;
    State from = State::Approved, to = State::Approved; // to == from: unchanged (failed)
    Outcome outcome = Outcome::Failed;
    std::string answer;
    int attempts = 0;
    std::string folder;              // where the copy was found (IMAP folder, "queue:deferred")
    bool readWhileSuspended = false; // the recheck before delete / release found it read
};

struct RunProgress {
    std::int64_t done = 0, total = 0;
    const RequestResult* last = nullptr; // the request just finished (null on the first call)
};

struct RunOptions {
    RunAction action = RunAction::Recall;
    std::string analyst;                       // required: every audit row names them
    std::vector<std::int64_t> requestIds;      // empty: every request eligible for the action
    std::function<void(const RunProgress&)> progress;
    const std::atomic_bool* cancel = nullptr;
    std::shared_ptr<DemoWorld> demo;           // the demo connector's world (made from the case when null)
    bool keepResults = true;                   // false: only counts (big benchmark runs)
};

struct RunReport {
    std::int64_t runId = 0;
    std::vector<RequestResult> results;
    std::map<std::string, std::int64_t> outcomes; // target state name (or "failed") -> count
    // Requests that got an answer about their copy from its server (suspended, already read,
    // not found, deleted, released): 0 with processed > 0 means nothing could be done.
    std::int64_t reached = 0;
    std::int64_t processed = 0;
    bool cancelled = false;
    std::int64_t elapsedMs = 0;
};

class RecallRunner {
public:
    // `db` is used from the calling thread only; open a CaseStore of your own on the worker.
    RecallRunner(SqliteDb& db, const ServerDirectory& directory);
    ~RecallRunner();
    // The states a request must be in for the action: Recall: approved, requested (resume),
    // unreachable (retry); Delete and Release: suspended. Delete also needs a virus verdict.
    static std::vector<State> eligibleStates(RunAction a);
    RunReport run(const RunOptions& options);
    // The demo world in use (made on first need).
    std::shared_ptr<DemoWorld> demo();

private:
    SqliteDb& m_db;
    const ServerDirectory m_dir; // a copy: callers may pass a temporary
    std::shared_ptr<DemoWorld> m_demo;
};

} // namespace mt::recall
