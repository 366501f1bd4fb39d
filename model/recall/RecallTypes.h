#pragma once
// Recall (issue 6): the words shared by the store, the connectors, the run and the verdicts.
// A recall request is one copy of one message for one recipient on one destination server;
// its state moves along a fixed graph (transitionAllowed) and every move is audited.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mt::recall {

enum class State {
    Proposed,         // in a plan, waiting for approval
    Approved,         // approved by an analyst, not yet sent to the server
    Requested,        // sent to the server; a crash here is resumed (connectors are idempotent)
    Suspended,        // held in the queue or moved to quarantine: confirmed blocked
    AlreadyRetrieved, // the recipient had read it: recall failed, the cascade follows
    NotFound,         // the server has no such copy (gone, or never there)
    Unreachable,      // the server did not answer (after retries); can be requested again
    AuthFailed,       // the server refused the connector's login; can be requested again
    Refused,          // the connector refused to go on (certificate, TLS, secret); can be requested again
    NotRecallable,    // external recipient, bounced, or no connector for the server
    Deleted,          // virus verdict: removed from quarantine / queue
    Released,         // clean verdict: back in the inbox / released from hold
    Cascaded,         // legacy (schema < 6): now already-retrieved with Request::cascadedAt set
};

const char* stateName(State s);
// The one vocabulary shown for a copy in the plan, the panel, the map, the report and the
// exports: a short label ("already read") and a sentence.
const char* stateLabel(State s);
const char* stateDescription(State s);
// Whether the recipient read the copy: a fact kept whatever happens to the copy afterwards.
enum class ReadState { Unread, BeforeRecall, WhileSuspended };
const char* readStateName(ReadState r); // "", "before-recall", "while-suspended"
ReadState readStateFromName(std::string_view n);
// The status of one copy in words: the state's label, plus the read fact when there is one
// ("deleted; read while suspended", "already read; cascade followed").
std::string copyStatus(State s, ReadState read, bool cascaded);
// The same as an SQL expression over recall_requests' state, read_state and cascaded_at (exports).
std::string copyStatusSql();
std::optional<State> stateFromName(std::string_view name);
// The state graph. Unreachable -> Requested is the retry; NotRecallable and Proposed can be
// planned again (a connector was added to the directory).
bool transitionAllowed(State from, State to);
bool isFinal(State s);

// Where the case says the recipient's copy is.
enum class Place {
    Mailbox,  // delivered to a mailbox on one of our servers
    Queue,    // still in one of our servers' queues (deferred, held)
    External, // handed to a server that is not ours
    Gone,     // bounced, expired, discarded: nothing to recall
};
const char* placeName(Place p);
std::optional<Place> placeFromName(std::string_view name);

// What a connector is asked to act on.
struct CopyRef {
    std::int64_t requestId = 0;
    std::int64_t caseMessageId = 0;  // messages.id
    std::string messageId;           // the Message-ID without angle brackets (or the case's key)
    std::string recipient;           // lower case
    std::string server;              // log host name
    Place place = Place::Mailbox;
    std::string queueId;             // the queue id the case knows (Place::Queue)
    std::int64_t deliveredAt = 0;    // ms since epoch UTC
    std::string folder;              // where the copy was found when suspended (release puts it back there)
};

enum class Outcome {
    Suspended,
    AlreadyRetrieved,
    NotFound,
    Unreachable, // transient: worth a retry
    Deleted,
    Released,
    AuthFailed,  // the server refused the login
    Failed,      // the server answered, but refused (not retried); the request keeps its state
};
const char* outcomeName(Outcome o);

struct ConnectorResult {
    ConnectorResult() = default;
    ConnectorResult(Outcome o, std::string a) : outcome(o), answer(std::move(a)) {}
    Outcome outcome = Outcome::Failed;
    std::string answer; // the server's answer (or the reason), for the audit trail
    std::string folder; // where the copy was found (IMAP folder; "queue:deferred", ...)
    std::string mailbox; // the mailbox logged in to (IMAP)
    bool readWhileSuspended = false; // a suspended copy found \\Seen on the recheck before delete / release
    bool absent = false; // remove/release: the copy is not where this connector looks at all
};

} // namespace mt::recall
