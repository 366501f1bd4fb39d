#pragma once
// The enrolment: which users send through the confirming wrapper, with which key. An
// administrator collects each user's enrolment line (mailtriage-confirm --enrolment-line) into
// a CSV or JSON file and imports it into the case (mailtriage-cli enrol); the confirmation rule
// judges the messages of enrolled users only.
//
// CSV: a header row naming `user`, `public_key` and optionally `algorithm` (ed25519 when
// absent) and `key_id` (checked against the key when given); `,` `;` or tab.
// JSON: an array of objects with the same fields, or {"users": [...]}.
//
// Ed25519 users are enrolled with their public key. HMAC users are enrolled with their key id
// only: their secrets never enter the case file; the analysis host reads them from a file of
// `user,base64 secret` lines named by MAILTRIAGE_CONFIRM_SECRETS (0600).
#include "SendConfirm.h"

#include <string>
#include <vector>

namespace mt {
class SqliteDb;
}

namespace mt::confirm {

struct EnrolledUser {
    std::string user;          // normalised address
    Algorithm algorithm = Algorithm::Ed25519;
    std::string keyId;
    std::string publicKey;     // raw 32 bytes (Ed25519); empty for HMAC
};

struct EnrolmentFile {
    std::vector<EnrolledUser> users;
    std::vector<std::string> errors; // "FILE:LINE: reason" for each refused row
};

// Parses a CSV or JSON enrolment (detected by content). A file that is neither, or has no
// usable row, gives errors and no users.
EnrolmentFile parseEnrolment(const std::string& path);
EnrolmentFile parseEnrolmentBytes(const std::string& text, const std::string& name);

// Stores the users in the case (table `enrolment`, schema 4): one row per user, replaced when
// enrolled again. In one transaction. Returns the number of rows written.
int storeEnrolment(SqliteDb& db, const std::vector<EnrolledUser>& users, const std::string& source);
std::vector<EnrolledUser> loadEnrolment(SqliteDb& db);
// When the enrolment last changed (ms since the epoch, 0: never): a change re-judges everything.
std::int64_t enrolmentChangedAt(SqliteDb& db);

// The keys for verification: Ed25519 keys from the enrolment, HMAC secrets from `secretsPath`
// (empty: $MAILTRIAGE_CONFIRM_SECRETS). HMAC users without a secret are reported in `problems`
// and judged as having an unknown key.
KeyDirectory keyDirectory(const std::vector<EnrolledUser>& users, std::string secretsPath = {},
                          std::vector<std::string>* problems = nullptr);

} // namespace mt::confirm
