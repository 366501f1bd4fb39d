#include "RecallRun.h"

#include "Connector.h"
#include "DemoConnector.h"

#include <QElapsedTimer>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <algorithm>

namespace mt::recall {

namespace {

State targetOf(RunAction a, Outcome o) {
    switch (a) {
    case RunAction::Recall:
        switch (o) {
        case Outcome::Suspended: return State::Suspended;
        case Outcome::AlreadyRetrieved: return State::AlreadyRetrieved;
        case Outcome::NotFound: return State::NotFound;
        case Outcome::AuthFailed: return State::AuthFailed;
        case Outcome::Unreachable: return State::Unreachable;
        default: return State::Refused;
        }
    // The recheck before acting found the copy back with the recipient and read.
    case RunAction::Delete: return o == Outcome::Deleted ? State::Deleted : o == Outcome::AlreadyRetrieved ? State::AlreadyRetrieved : State::Suspended;
    case RunAction::Release: return o == Outcome::Released ? State::Released : o == Outcome::AlreadyRetrieved ? State::AlreadyRetrieved : State::Suspended;
    }
    return State::Suspended;
}

// Sleeps up to ms, waking early when cancelled. False when cancelled.
bool backoff(int ms, const std::atomic_bool* cancel) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
        if (cancel && cancel->load()) return false;
        std::this_thread::sleep_for(std::min(std::chrono::milliseconds(20),
                                             std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now())));
    }
    return !(cancel && cancel->load());
}

} // namespace

const char* runActionName(RunAction a) {
    switch (a) {
    case RunAction::Recall: return "recall";
    case RunAction::Delete: return "delete";
    case RunAction::Release: return "release";
    }
    return "recall";
}

RecallRunner::RecallRunner(SqliteDb& db, const ServerDirectory& directory) : m_db(db), m_dir(directory) {}
RecallRunner::~RecallRunner() = default;

std::vector<State> RecallRunner::eligibleStates(RunAction a) {
    if (a == RunAction::Recall) return {State::Approved, State::Requested, State::Unreachable, State::AuthFailed, State::Refused};
    return {State::Suspended};
}

std::shared_ptr<DemoWorld> RecallRunner::demo() {
    if (!m_demo) m_demo = DemoWorld::fromCase(m_db);
    return m_demo;
}

RunReport RecallRunner::run(const RunOptions& o) {
    if (o.analyst.empty()) throw std::invalid_argument("a recall run needs the analyst's name");
    QElapsedTimer timer;
    timer.start();
    if (o.demo) m_demo = o.demo;
    RecallStore store(m_db);
    RequestFilter f;
    f.states = eligibleStates(o.action);
    f.ids = o.requestIds;
    RunReport rep;
    std::vector<Request> todo = store.requests(f);
    // One server and one recipient after the other: connectors keep a session per recipient.
    std::stable_sort(todo.begin(), todo.end(), [](const Request& a, const Request& b) {
        return std::tie(a.server, a.place, a.recipient) < std::tie(b.server, b.place, b.recipient);
    });
    const char* action = runActionName(o.action);
    rep.runId = store.beginRun(action, o.analyst);
    RunProgress prog;
    prog.total = static_cast<std::int64_t>(todo.size());
    if (o.progress) o.progress(prog);

    struct Slot {
        std::unique_ptr<Connector> connector;
        std::string error;      // no connector: why
        bool down = false;      // gave up on this server in this run
        Outcome downOutcome = Outcome::Unreachable;
        std::string downAnswer;
    };
    std::map<std::pair<std::string, Place>, Slot> connectors;
    std::map<std::int64_t, bool> virusVerdict; // message -> has one (Delete)
    const RetryPolicy retry = m_dir.retry();

    for (const Request& req : todo) {
        if (o.cancel && o.cancel->load()) {
            rep.cancelled = true;
            break;
        }
        RequestResult res;
        res.requestId = req.id;
        res.server = req.server;
        res.recipient = req.recipient;
        res.messageKey = req.messageKey;
        res.from = req.state;
        res.to = req.state;
        Slot& slot = connectors[{req.server, req.place}];
        if (!slot.connector && slot.error.empty()) {
            std::shared_ptr<DemoWorld> world = m_dir.connectorKindFor(req.server, req.place) == "demo" ? demo() : nullptr;
            slot.connector = m_dir.makeConnector(req.server, req.place, world, &slot.error);
        }
        res.connector = slot.connector ? slot.connector->kind() : std::string();
        const CopyRef ref = req.copyRef();
        do { // once; break: the request is finished
            if (o.action == RunAction::Delete) {
                auto it = virusVerdict.find(req.caseMessageId);
                if (it == virusVerdict.end()) it = virusVerdict.emplace(req.caseMessageId, store.hasVirusVerdictFor(req.caseMessageId)).first;
                if (!it->second) {
                    // Nothing is deleted without a virus verdict.
                    res.answer = "refused: no virus verdict covers this message";
                    store.audit({0, 0, o.analyst, "delete-refused", req.server, req.id, req.messageKey, req.recipient,
                                 stateName(req.state), stateName(req.state), res.answer});
                    ++rep.outcomes["refused"];
                    break;
                }
            }

            if (o.action == RunAction::Recall) {
                // Committed before the server is asked: a crash from here on resumes this request.
                const std::string note = req.state == State::Requested ? "resumed after an interrupted run"
                                       : req.state == State::Unreachable || req.state == State::AuthFailed || req.state == State::Refused ? "retry"
                                       : "asking " + req.server + " (" + res.connector + ")";
                if (!store.transition(req.id, req.state, State::Requested, o.analyst, "request", note, rep.runId)) {
                    res.answer = "skipped: changed by someone else meanwhile";
                    ++rep.outcomes["skipped"];
                    break;
                }
                res.from = State::Requested;
            }
            {
                auto ask = [&](Slot& sl, const CopyRef& cr) {
                    ConnectorResult r;
                    if (!sl.connector) {
                        r = {Outcome::Failed, sl.error};
                    } else if (sl.down) {
                        r = {sl.downOutcome, "not tried: " + req.server + " refused or did not answer earlier in this run (" + sl.downAnswer + ")"};
                    } else {
                        for (int attempt = 1;; ++attempt) {
                            res.attempts = attempt;
                            switch (o.action) {
                            case RunAction::Recall: r = sl.connector->suspend(cr); break;
                            case RunAction::Delete: r = sl.connector->remove(cr); break;
                            case RunAction::Release: r = sl.connector->release(cr); break;
                            }
                            if (r.outcome != Outcome::Unreachable || attempt >= retry.attempts) break;
                            if (!backoff(retry.backoffMs << std::min(attempt - 1, 16), o.cancel)) break;
                        }
                        if (r.outcome == Outcome::Unreachable) {
                            sl.down = true;
                            sl.downOutcome = r.outcome;
                            sl.downAnswer = r.answer;
                        }
                        if (r.outcome == Outcome::Unreachable)
                            r.answer += " (after " + std::to_string(res.attempts) + " attempt" + (res.attempts == 1 ? "" : "s") + ")";
                    }
                    return r;
                };
                ConnectorResult r = ask(slot, ref);
                // The copy moves on its own: a queued copy is delivered, a held one released.
                // Not where the request looked: look at the other place of the same server.
                if (o.action == RunAction::Recall && r.outcome == Outcome::NotFound
                    && (req.place == Place::Mailbox || req.place == Place::Queue)) {
                    const Place other = req.place == Place::Queue ? Place::Mailbox : Place::Queue;
                    const std::string kind = m_dir.connectorKindFor(req.server, other);
                    if (!kind.empty() && kind != "demo") {
                        Slot& os = connectors[{req.server, other}];
                        if (!os.connector && os.error.empty()) os.connector = m_dir.makeConnector(req.server, other, nullptr, &os.error);
                        CopyRef moved = ref;
                        moved.place = other;
                        const ConnectorResult r2 = ask(os, moved);
                        if (r2.outcome != Outcome::NotFound) {
                            store.relocate(req.id, other, kind);
                            res.connector = kind;
                            const std::string before = r.answer;
                            r = r2;
                            r.answer = std::string("not in the ") + placeName(req.place) + " (" + before + "); found in the "
                                + placeName(other) + ": " + r2.answer;
                        } else {
                            r.answer += "; not in the " + std::string(placeName(other)) + " either (" + r2.answer + ")";
                        }
                    }
                }
                // A held copy no longer in the queue may have been released and delivered:
                // before calling it gone, the recheck looks in the mailbox too.
                if (o.action == RunAction::Delete && r.absent && req.place == Place::Queue) {
                    const std::string kind = m_dir.connectorKindFor(req.server, Place::Mailbox);
                    if (kind == "imap") {
                        Slot& os = connectors[{req.server, Place::Mailbox}];
                        if (!os.connector && os.error.empty()) os.connector = m_dir.makeConnector(req.server, Place::Mailbox, nullptr, &os.error);
                        CopyRef moved = ref;
                        moved.place = Place::Mailbox;
                        const ConnectorResult r2 = ask(os, moved);
                        if (!r2.absent) {
                            const std::string before = r.answer;
                            r = r2;
                            r.answer = "not in the queue (" + before + "); in the mailbox: " + r2.answer;
                        }
                    }
                }
                res.folder = r.folder;
                res.readWhileSuspended = r.readWhileSuspended;
                const ReadState read = r.readWhileSuspended ? ReadState::WhileSuspended
                                     : (o.action == RunAction::Recall && r.outcome == Outcome::AlreadyRetrieved) ? ReadState::BeforeRecall
                                                                                                                  : ReadState::Unread;
                // What was found and the new state in one transaction (one commit per request).
                Transaction tx(m_db);
                if (!r.folder.empty() || !r.mailbox.empty() || read != ReadState::Unread)
                    store.recordFinding(req.id, r.folder, r.mailbox, read);
                res.outcome = r.outcome;
                res.answer = r.outcome == Outcome::Failed ? "failed: " + r.answer : r.answer;
                const State to = targetOf(o.action, r.outcome);
                if (to != res.from) {
                    const char* act = o.action == RunAction::Recall ? "result" : action;
                    if (store.transition(req.id, res.from, to, o.analyst, act, res.answer, rep.runId, true)) res.to = to;
                } else {
                    // Delete / release that did not happen: the request stays suspended, the
                    // failure is on record.
                    store.audit({0, 0, o.analyst, std::string(action) + "-failed", req.server, req.id, req.messageKey,
                                 req.recipient, stateName(res.from), stateName(res.from), res.answer});
                }
                tx.commit();
                ++rep.outcomes[res.to != res.from ? stateName(res.to) : "failed"];
                if (r.outcome == Outcome::Suspended || r.outcome == Outcome::AlreadyRetrieved || r.outcome == Outcome::NotFound
                    || r.outcome == Outcome::Deleted || r.outcome == Outcome::Released)
                    ++rep.reached;
            }
        } while (false);
        ++rep.processed;
        ++prog.done;
        if (o.keepResults) rep.results.push_back(res);
        prog.last = &res;
        if (o.progress) o.progress(prog);
        prog.last = nullptr;
    }
    store.finishRun(rep.runId, rep.cancelled ? "cancelled" : "done", rep.processed);
    rep.elapsedMs = timer.elapsed();
    return rep;
}

} // namespace mt::recall
