#pragma once
// A connector acts on one destination server: it suspends a copy (hold in the queue, move to
// quarantine), and after a verdict deletes or releases what it suspended. Every operation is
// idempotent: asked twice, it finds its own earlier work (already held, already in
// quarantine) and answers the same without acting again, so a run resumed after a crash never
// moves a message twice. One instance serves one server and is used by one thread at a time.
#include "RecallTypes.h"

#include <string>

namespace mt::recall {

class Connector {
public:
    virtual ~Connector() = default;
    virtual std::string kind() const = 0; // "imap", "postfix", "demo"
    // Suspended, AlreadyRetrieved, NotFound, Unreachable or Failed.
    virtual ConnectorResult suspend(const CopyRef& copy) = 0;
    // Only for a copy this connector suspended. Deleted, NotFound, Unreachable or Failed.
    virtual ConnectorResult remove(const CopyRef& copy) = 0;
    // Released, NotFound, Unreachable or Failed.
    virtual ConnectorResult release(const CopyRef& copy) = 0;
};

} // namespace mt::recall
