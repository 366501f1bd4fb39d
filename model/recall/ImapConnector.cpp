#include "ImapConnector.h"

#include <curl/curl.h>

#include <mutex>
#include <sstream>

namespace mt::recall {

namespace {

std::once_flag g_curlInit;

size_t collect(char* ptr, size_t size, size_t n, void* userdata) {
    static_cast<std::string*>(userdata)->append(ptr, size * n);
    return size * n;
}

// The server's lines as they arrive (tagged answers included): the audit trail keeps them.
int debugTrace(CURL*, curl_infotype type, char* data, size_t size, void* userdata) {
    if (type == CURLINFO_HEADER_IN) static_cast<std::string*>(userdata)->append(data, size);
    return 0;
}

std::string quoted(const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') q += '\\';
        if (c == '\r' || c == '\n') continue;
        q += c;
    }
    return q + '"';
}

std::string uidSet(const std::vector<long>& uids) {
    std::string s;
    for (std::size_t i = 0; i < uids.size(); ++i) s += (i ? "," : "") + std::to_string(uids[i]);
    return s;
}

bool transient(CURLcode rc) {
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_WEIRD_SERVER_REPLY:
        return true;
    default:
        return false;
    }
}

// The last tagged answer line ("A005 OK Move completed"), else the last line the server sent.
std::string lastAnswer(const std::string& trace) {
    std::istringstream in(trace);
    std::string line, tagged, last;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        last = line;
        if (line[0] == 'A' && line.find(' ') != std::string::npos && line.find(' ') < 8) tagged = line;
    }
    return tagged.empty() ? last : tagged;
}

} // namespace

std::vector<long> ImapConnector::parseSearch(const std::string& body) {
    std::vector<long> uids;
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("* SEARCH", 0) != 0) continue;
        std::istringstream words(line.substr(8));
        std::string w;
        while (words >> w) {
            char* end = nullptr;
            const long v = std::strtol(w.c_str(), &end, 10);
            if (end && *end == '\0' && v > 0) uids.push_back(v);
        }
    }
    return uids;
}

bool ImapConnector::flagsSeen(const std::string& body) {
    const std::size_t f = body.find("FLAGS (");
    if (f == std::string::npos) return false;
    const std::size_t e = body.find(')', f);
    const std::string flags = body.substr(f, e == std::string::npos ? std::string::npos : e - f);
    std::string lower;
    for (char c : flags) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return lower.find("\\seen") != std::string::npos;
}

// One logged-in connection as the recipient (libcurl keeps it open between requests).
class ImapConnector::Session {
public:
    Session(const ImapSettings& s, const std::string& password, const std::string& recipient) : m_s(s) {
        m_h = curl_easy_init();
        std::string base = s.url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        m_base = base + "/";
        if (s.login == ImapSettings::Login::AuthzId) {
            curl_easy_setopt(m_h, CURLOPT_USERNAME, s.adminUser.c_str());
            curl_easy_setopt(m_h, CURLOPT_SASL_AUTHZID, recipient.c_str());
            curl_easy_setopt(m_h, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN");
        } else {
            m_user = recipient + s.masterSeparator + s.adminUser;
            curl_easy_setopt(m_h, CURLOPT_USERNAME, m_user.c_str());
        }
        curl_easy_setopt(m_h, CURLOPT_PASSWORD, password.c_str());
        if (s.tls == ImapSettings::Tls::StartTls) curl_easy_setopt(m_h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
        if (!s.caFile.empty()) curl_easy_setopt(m_h, CURLOPT_CAINFO, s.caFile.c_str());
        if (s.insecure) {
            curl_easy_setopt(m_h, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(m_h, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        curl_easy_setopt(m_h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(s.timeoutS));
        curl_easy_setopt(m_h, CURLOPT_TIMEOUT, static_cast<long>(s.timeoutS));
        curl_easy_setopt(m_h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(m_h, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(m_h, CURLOPT_WRITEDATA, &m_body);
        curl_easy_setopt(m_h, CURLOPT_DEBUGFUNCTION, debugTrace);
        curl_easy_setopt(m_h, CURLOPT_DEBUGDATA, &m_trace);
        curl_easy_setopt(m_h, CURLOPT_VERBOSE, 1L);
        curl_easy_setopt(m_h, CURLOPT_ERRORBUFFER, m_err);
    }
    ~Session() { curl_easy_cleanup(m_h); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Runs `command` with `mailbox` selected (empty: none). True when the server said OK.
    bool cmd(const std::string& mailbox, const std::string& command) {
        m_body.clear();
        m_trace.clear();
        m_err[0] = '\0';
        std::string url = m_base;
        if (!mailbox.empty()) {
            char* esc = curl_easy_escape(m_h, mailbox.c_str(), static_cast<int>(mailbox.size()));
            url += esc;
            curl_free(esc);
        }
        curl_easy_setopt(m_h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(m_h, CURLOPT_CUSTOMREQUEST, command.c_str());
        m_rc = curl_easy_perform(m_h);
        return m_rc == CURLE_OK;
    }
    const std::string& body() const { return m_body; }
    CURLcode rc() const { return m_rc; }
    std::string answer() const {
        std::string a = lastAnswer(m_trace);
        if (m_rc != CURLE_OK) {
            std::string e = m_err[0] ? m_err : curl_easy_strerror(m_rc);
            a = a.empty() ? e : e + " (" + a + ")";
        }
        return a;
    }
    // A failed exchange as the connector's result.
    ConnectorResult failure(const std::string& what) const {
        return {transient(m_rc) ? Outcome::Unreachable : Outcome::Failed, what + ": " + answer()};
    }

    // -1: error (see rc), 0: no such folder, 1: exists.
    int folderExists(const std::string& name) {
        if (!cmd("", "LIST \"\" " + quoted(name))) return -1;
        return m_body.find("* LIST") != std::string::npos ? 1 : 0;
    }
    bool search(const std::string& mailbox, const std::string& messageId, std::vector<long>& uids) {
        if (!cmd(mailbox, "UID SEARCH HEADER Message-ID " + quoted("<" + messageId + ">"))) return false;
        uids = parseSearch(m_body);
        return true;
    }

private:
    const ImapSettings& m_s;
    CURL* m_h = nullptr;
    std::string m_base, m_user, m_body, m_trace;
    char m_err[CURL_ERROR_SIZE] = {};
    CURLcode m_rc = CURLE_OK;
};

ImapConnector::ImapConnector(ImapSettings settings, std::string password)
    : m_s(std::move(settings)), m_password(std::move(password)) {
    std::call_once(g_curlInit, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

ImapConnector::~ImapConnector() = default;

// The recipient's logged-in session: kept while requests for the same recipient follow each
// other (the runner orders them so), replaced for the next recipient.
ImapConnector::Session& ImapConnector::session(const std::string& recipient) {
    if (!m_session || m_sessionUser != recipient) {
        m_session.reset();
        m_session = std::make_unique<Session>(m_s, m_password, recipient);
        m_sessionUser = recipient;
    }
    return *m_session;
}

ConnectorResult ImapConnector::suspend(const CopyRef& copy) {
    Session& s = session(copy.recipient);
    const int q = s.folderExists(m_s.quarantine);
    if (q < 0) return s.failure("LIST " + m_s.quarantine);
    std::vector<long> inQuarantine, inInbox;
    // Our own earlier work first: a run resumed after a crash must not move anything again.
    if (q == 1) {
        if (!s.search(m_s.quarantine, copy.messageId, inQuarantine)) return s.failure("SEARCH " + m_s.quarantine);
        if (!inQuarantine.empty())
            return {Outcome::Suspended, "already in " + m_s.quarantine + " (UID " + uidSet(inQuarantine) + ")"};
    }
    if (!s.search(m_s.inbox, copy.messageId, inInbox)) return s.failure("SEARCH " + m_s.inbox);
    if (inInbox.empty())
        return {Outcome::NotFound, "no message <" + copy.messageId + "> in " + m_s.inbox + " or " + m_s.quarantine};
    if (!s.cmd(m_s.inbox, "UID FETCH " + uidSet(inInbox) + " FLAGS")) return s.failure("FETCH FLAGS");
    if (flagsSeen(s.body())) {
        std::string flags = s.body();
        while (!flags.empty() && (flags.back() == '\n' || flags.back() == '\r')) flags.pop_back();
        return {Outcome::AlreadyRetrieved, flags};
    }
    if (q == 0 && !s.cmd("", "CREATE " + quoted(m_s.quarantine))) {
        // Created meanwhile by someone else is fine.
        if (s.folderExists(m_s.quarantine) != 1) return s.failure("CREATE " + m_s.quarantine);
    }
    if (!s.cmd(m_s.inbox, "UID MOVE " + uidSet(inInbox) + " " + quoted(m_s.quarantine))) return s.failure("UID MOVE");
    return {Outcome::Suspended, "UID " + uidSet(inInbox) + " moved to " + m_s.quarantine + ": " + s.answer()};
}

ConnectorResult ImapConnector::remove(const CopyRef& copy) {
    Session& s = session(copy.recipient);
    const int q = s.folderExists(m_s.quarantine);
    if (q < 0) return s.failure("LIST " + m_s.quarantine);
    std::vector<long> inQuarantine, inInbox;
    if (q == 1 && !s.search(m_s.quarantine, copy.messageId, inQuarantine)) return s.failure("SEARCH " + m_s.quarantine);
    if (inQuarantine.empty()) {
        if (!s.search(m_s.inbox, copy.messageId, inInbox)) return s.failure("SEARCH " + m_s.inbox);
        if (!inInbox.empty()) return {Outcome::Failed, "in " + m_s.inbox + ", not in " + m_s.quarantine + ": not deleted"};
        return {Outcome::Deleted, "no longer in " + m_s.quarantine + " (expunged earlier)"};
    }
    const std::string set = uidSet(inQuarantine);
    if (!s.cmd(m_s.quarantine, "UID STORE " + set + " +FLAGS.SILENT (\\Deleted)")) return s.failure("UID STORE \\Deleted");
    if (!s.cmd(m_s.quarantine, "UID EXPUNGE " + set)) return s.failure("UID EXPUNGE");
    return {Outcome::Deleted, "UID " + set + " expunged from " + m_s.quarantine + ": " + s.answer()};
}

ConnectorResult ImapConnector::release(const CopyRef& copy) {
    Session& s = session(copy.recipient);
    const int q = s.folderExists(m_s.quarantine);
    if (q < 0) return s.failure("LIST " + m_s.quarantine);
    std::vector<long> inQuarantine, inInbox;
    if (q == 1 && !s.search(m_s.quarantine, copy.messageId, inQuarantine)) return s.failure("SEARCH " + m_s.quarantine);
    if (inQuarantine.empty()) {
        if (!s.search(m_s.inbox, copy.messageId, inInbox)) return s.failure("SEARCH " + m_s.inbox);
        if (!inInbox.empty()) return {Outcome::Released, "already in " + m_s.inbox + " (UID " + uidSet(inInbox) + ")"};
        return {Outcome::NotFound, "no message <" + copy.messageId + "> in " + m_s.quarantine + " or " + m_s.inbox};
    }
    const std::string set = uidSet(inQuarantine);
    if (!s.cmd(m_s.quarantine, "UID MOVE " + set + " " + quoted(m_s.inbox))) return s.failure("UID MOVE");
    return {Outcome::Released, "UID " + set + " moved back to " + m_s.inbox + ": " + s.answer()};
}

} // namespace mt::recall
