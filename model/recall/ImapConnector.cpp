#include "ImapConnector.h"

#include <curl/curl.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <sstream>

namespace mt::recall {

namespace {

std::once_flag g_curlInit;

std::string quoted(const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
        if (c == '\r' || c == '\n') continue;
        if (c == '"' || c == '\\') q += '\\';
        q += c;
    }
    return q + '"';
}

std::string uidSet(const std::vector<long>& uids) {
    std::string s;
    for (std::size_t i = 0; i < uids.size(); ++i) s += (i ? "," : "") + std::to_string(uids[i]);
    return s;
}

std::string lowerAscii(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
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

// Reads a quoted string or atom starting at `i`; advances `i`.
std::string readAstring(const std::string& s, std::size_t& i) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::string out;
    if (i < s.size() && s[i] == '"') {
        for (++i; i < s.size() && s[i] != '"'; ++i) {
            if (s[i] == '\\' && i + 1 < s.size()) ++i;
            out += s[i];
        }
        if (i < s.size()) ++i;
        return out;
    }
    while (i < s.size() && s[i] != ' ' && s[i] != '\r' && s[i] != '\n') out += s[i++];
    return out;
}

std::string withoutFlags(const std::string& flags, std::initializer_list<const char*> drop) {
    std::istringstream in(flags);
    std::string w, out;
    while (in >> w) {
        bool skip = false;
        for (const char* d : drop) skip = skip || lowerAscii(w) == lowerAscii(d);
        if (!skip) out += (out.empty() ? "" : " ") + w;
    }
    return out;
}

} // namespace

// One IMAP connection, logged in by libcurl (TLS, SASL), then driven by hand.
class ImapConnector::Session {
public:
    struct Untagged {
        std::string text;                  // the response with each literal replaced by {N}
        std::vector<std::string> literals; // the literals' bytes, in order
    };

    Session(const ImapSettings& s, const std::string& password, const std::string& login) : m_s(s) {
        m_h = curl_easy_init();
        std::string base = s.url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        curl_easy_setopt(m_h, CURLOPT_URL, (base + "/").c_str());
        if (s.login == ImapSettings::Login::AuthzId) {
            curl_easy_setopt(m_h, CURLOPT_USERNAME, s.adminUser.c_str());
            curl_easy_setopt(m_h, CURLOPT_SASL_AUTHZID, login.c_str());
            curl_easy_setopt(m_h, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN");
        } else {
            m_user = login + s.masterSeparator + s.adminUser;
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
        curl_easy_setopt(m_h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(m_h, CURLOPT_CONNECT_ONLY, 1L);
        curl_easy_setopt(m_h, CURLOPT_ERRORBUFFER, m_err);
        m_rc = curl_easy_perform(m_h);
        if (m_rc == CURLE_OK) curl_easy_getinfo(m_h, CURLINFO_ACTIVESOCKET, &m_sock);
        m_ok = m_rc == CURLE_OK && m_sock != CURL_SOCKET_BAD;
        if (m_rc == CURLE_OK && !m_ok) m_rc = CURLE_COULDNT_CONNECT;
    }
    ~Session() {
        if (m_ok) {
            std::vector<Untagged> u;
            run("LOGOUT", u);
        }
        curl_easy_cleanup(m_h);
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    bool ok() const { return m_ok; }
    const std::string& lastTagged() const { return m_tagged; }

    // A failed exchange as the connector's result: a refused login is auth-failed, a network
    // failure unreachable (retried), anything else (TLS, certificate, a NO) failed.
    ConnectorResult failure(const std::string& what) const {
        if (m_rc == CURLE_OK && m_ok) return {Outcome::Failed, what + ": " + m_tagged};
        std::string e = m_err[0] ? m_err : curl_easy_strerror(m_rc);
        const Outcome o = m_rc == CURLE_LOGIN_DENIED ? Outcome::AuthFailed : transient(m_rc) ? Outcome::Unreachable : Outcome::Failed;
        return {o, what + ": " + e};
    }

    // Runs one command; true when the server answered OK.
    bool run(const std::string& command, std::vector<Untagged>& untagged) {
        untagged.clear();
        m_tagged.clear();
        if (!m_ok) return false;
        const std::string tag = "M" + std::to_string(++m_tag);
        if (!send(tag + " " + command + "\r\n")) return false;
        return finish(tag, untagged);
    }

    // APPEND with flags and internal date: the literal goes after the server's "+".
    bool append(const std::string& mailbox, const std::string& flags, const std::string& date, const std::string& bytes) {
        m_tagged.clear();
        if (!m_ok) return false;
        const std::string tag = "M" + std::to_string(++m_tag);
        std::string cmd = tag + " APPEND " + quoted(mailbox) + " (" + flags + ")";
        if (!date.empty()) cmd += " " + quoted(date);
        cmd += " {" + std::to_string(bytes.size()) + "}\r\n";
        if (!send(cmd)) return false;
        std::string line;
        if (!readLine(line)) return false;
        if (line.rfind("+", 0) != 0) {
            m_tagged = line;
            return false;
        }
        if (!send(bytes) || !send("\r\n")) return false;
        std::vector<Untagged> u;
        return finish(tag, u);
    }

    // -1 error, 0 missing, 1 there. `delimiter` gets the hierarchy delimiter when asked.
    int exists(const std::string& mailbox) {
        std::vector<Untagged> u;
        if (!run("LIST \"\" " + quoted(mailbox), u)) return -1;
        for (const Untagged& x : u) {
            ListEntry e;
            if (x.text.rfind("* LIST ", 0) == 0 && parseList(x.text.substr(7), e) && e.selectable) return 1;
        }
        return 0;
    }
    bool delimiter(std::string& out) {
        std::vector<Untagged> u;
        if (!run("LIST \"\" \"\"", u)) return false;
        for (const Untagged& x : u) {
            ListEntry e;
            if (x.text.rfind("* LIST ", 0) == 0 && parseList(x.text.substr(7), e)) out = e.delimiter;
        }
        return true;
    }
    // Every selectable folder.
    bool folders(std::vector<std::string>& out) {
        out.clear();
        std::vector<Untagged> u;
        if (!run("LIST \"\" \"*\"", u)) return false;
        for (const Untagged& x : u) {
            ListEntry e;
            if (x.text.rfind("* LIST ", 0) == 0 && parseList(x.text.substr(7), e) && e.selectable) out.push_back(e.name);
        }
        // INBOX first: where a copy usually is.
        std::stable_partition(out.begin(), out.end(), [](const std::string& n) { return lowerAscii(n) == "inbox"; });
        return true;
    }
    bool select(const std::string& mailbox) {
        if (m_selected == mailbox) return true;
        std::vector<Untagged> u;
        m_selected.clear();
        if (!run("SELECT " + quoted(mailbox), u)) return false;
        m_selected = mailbox;
        return true;
    }
    bool search(const std::string& mailbox, const std::string& messageId, std::vector<long>& uids) {
        uids.clear();
        if (!select(mailbox)) return false;
        std::vector<Untagged> u;
        if (!run("UID SEARCH HEADER Message-ID " + quoted("<" + messageId + ">"), u)) return false;
        for (const Untagged& x : u) {
            const std::vector<long> v = parseSearch(x.text);
            uids.insert(uids.end(), v.begin(), v.end());
        }
        return true;
    }
    struct Copy {
        long uid = 0;
        std::string flags, date, bytes;
    };
    // FLAGS and INTERNALDATE, and the bytes when `body` (BODY.PEEK[]: not marked \Seen).
    bool fetch(const std::string& mailbox, long uid, bool body, Copy& out) {
        if (!select(mailbox)) return false;
        std::vector<Untagged> u;
        if (!run("UID FETCH " + std::to_string(uid) + (body ? " (FLAGS INTERNALDATE BODY.PEEK[])" : " (FLAGS INTERNALDATE)"), u))
            return false;
        for (const Untagged& x : u) {
            if (x.text.find(" FETCH (") == std::string::npos) continue;
            out.uid = uid;
            out.flags = fetchFlags(x.text);
            out.date = fetchInternalDate(x.text);
            if (body) {
                if (x.literals.empty()) continue;
                out.bytes = x.literals.back();
            }
            return true;
        }
        m_tagged = "no FETCH answer for UID " + std::to_string(uid);
        return false;
    }
    bool expunge(const std::string& mailbox, const std::vector<long>& uids) {
        if (!select(mailbox)) return false;
        std::vector<Untagged> u;
        const std::string set = uidSet(uids);
        return run("UID STORE " + set + " +FLAGS.SILENT (\\Deleted)", u) && run("UID EXPUNGE " + set, u);
    }
    bool create(const std::string& mailbox) {
        std::vector<Untagged> u;
        if (run("CREATE " + quoted(mailbox), u)) return true;
        return exists(mailbox) == 1; // made meanwhile by someone else
    }

private:
    bool waitFor(bool forRead) {
        pollfd p{static_cast<int>(m_sock), static_cast<short>(forRead ? POLLIN : POLLOUT), 0};
        const int n = ::poll(&p, 1, m_s.timeoutS * 1000);
        if (n <= 0) {
            fail(CURLE_OPERATION_TIMEDOUT, "no answer within " + std::to_string(m_s.timeoutS) + " s");
            return false;
        }
        return true;
    }
    void fail(CURLcode rc, const std::string& what) {
        m_rc = rc;
        m_ok = false;
        snprintf(m_err, sizeof m_err, "%s", what.c_str());
    }
    bool send(const std::string& data) {
        std::size_t off = 0;
        while (off < data.size()) {
            std::size_t n = 0;
            const CURLcode rc = curl_easy_send(m_h, data.data() + off, data.size() - off, &n);
            if (rc == CURLE_AGAIN) {
                if (!waitFor(false)) return false;
                continue;
            }
            if (rc != CURLE_OK) {
                fail(rc, std::string("send: ") + curl_easy_strerror(rc));
                return false;
            }
            off += n;
        }
        return true;
    }
    bool fill() {
        char buf[16384];
        for (;;) {
            std::size_t n = 0;
            const CURLcode rc = curl_easy_recv(m_h, buf, sizeof buf, &n);
            if (rc == CURLE_AGAIN) {
                if (!waitFor(true)) return false;
                continue;
            }
            if (rc != CURLE_OK || n == 0) {
                fail(rc == CURLE_OK ? CURLE_GOT_NOTHING : rc, "the server closed the connection");
                return false;
            }
            m_in.append(buf, n);
            return true;
        }
    }
    bool readLine(std::string& line) {
        std::size_t e;
        while ((e = m_in.find("\r\n")) == std::string::npos)
            if (!fill()) return false;
        line = m_in.substr(0, e);
        m_in.erase(0, e + 2);
        return true;
    }
    bool readBytes(std::size_t n, std::string& out) {
        while (m_in.size() < n)
            if (!fill()) return false;
        out = m_in.substr(0, n);
        m_in.erase(0, n);
        return true;
    }
    // Reads untagged answers (with their literals) up to the tagged one.
    bool finish(const std::string& tag, std::vector<Untagged>& untagged) {
        for (;;) {
            Untagged x;
            std::string line;
            if (!readLine(line)) return false;
            for (;;) {
                // A literal: "{N}" at the end of the line, N bytes, then the rest of the response.
                std::size_t n = 0;
                const bool literal = line.size() > 2 && line.back() == '}' && line.rfind('{') != std::string::npos
                    && (n = std::strtoul(line.c_str() + line.rfind('{') + 1, nullptr, 10), true);
                x.text += line;
                if (!literal) break;
                std::string bytes;
                if (!readBytes(n, bytes)) return false;
                if (x.text.rfind("* LIST ", 0) == 0) x.text += bytes; // a folder name
                x.literals.push_back(std::move(bytes));
                if (!readLine(line)) return false;
            }
            if (x.text.rfind(tag + " ", 0) == 0) {
                m_tagged = x.text;
                const std::string status = x.text.substr(tag.size() + 1, 2);
                return status == "OK";
            }
            untagged.push_back(std::move(x));
        }
    }

    const ImapSettings& m_s;
    CURL* m_h = nullptr;
    curl_socket_t m_sock = CURL_SOCKET_BAD;
    std::string m_user, m_in, m_tagged, m_selected;
    char m_err[CURL_ERROR_SIZE] = {};
    CURLcode m_rc = CURLE_OK;
    bool m_ok = false;
    int m_tag = 0;
};

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
            if (end && (*end == '\0' || *end == '\r') && v > 0) uids.push_back(v);
        }
    }
    return uids;
}

bool ImapConnector::flagsSeen(const std::string& body) {
    const std::size_t f = body.find("FLAGS (");
    if (f == std::string::npos) return false;
    const std::size_t e = body.find(')', f);
    const std::string flags = body.substr(f, e == std::string::npos ? std::string::npos : e - f);
    return lowerAscii(flags).find("\\seen") != std::string::npos;
}

bool ImapConnector::parseList(const std::string& line, ListEntry& out) {
    out = {};
    std::size_t i = 0;
    if (line.empty() || line[0] != '(') return false;
    const std::size_t close = line.find(')');
    if (close == std::string::npos) return false;
    const std::string attrs = lowerAscii(line.substr(1, close - 1));
    out.selectable = attrs.find("\\noselect") == std::string::npos && attrs.find("\\nonexistent") == std::string::npos;
    i = close + 1;
    out.delimiter = readAstring(line, i);
    if (lowerAscii(out.delimiter) == "nil") out.delimiter.clear();
    while (i < line.size() && line[i] == ' ') ++i;
    // A literal name: "{N}" followed (in the same text) by the name.
    if (i < line.size() && line[i] == '{') {
        const std::size_t e = line.find('}', i);
        if (e == std::string::npos) return false;
        const std::size_t n = std::strtoul(line.c_str() + i + 1, nullptr, 10);
        out.name = line.substr(e + 1, n);
        return true;
    }
    out.name = readAstring(line, i);
    return true;
}

std::string ImapConnector::fetchFlags(const std::string& line) {
    const std::size_t f = line.find("FLAGS (");
    if (f == std::string::npos) return {};
    const std::size_t e = line.find(')', f);
    return line.substr(f + 7, e == std::string::npos ? std::string::npos : e - f - 7);
}

std::string ImapConnector::fetchInternalDate(const std::string& line) {
    std::size_t i = line.find("INTERNALDATE ");
    if (i == std::string::npos) return {};
    i += 13;
    return readAstring(line, i);
}

std::string ImapConnector::quarantineFolder(const std::string& base, const std::string& delimiter, const std::string& mailbox) {
    std::string leaf;
    for (char c : mailbox) {
        const bool bad = (!delimiter.empty() && c == delimiter[0]) || c == '%' || c == '*' || c == '"' || c == '\\'
            || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '&';
        leaf += bad ? '_' : c;
    }
    return base + (delimiter.empty() ? std::string("-") : delimiter) + leaf;
}

ImapConnector::ImapConnector(ImapSettings settings, std::string password)
    : m_s(std::move(settings)), m_password(std::move(password)) {
    std::call_once(g_curlInit, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

ImapConnector::~ImapConnector() = default;

// The recipient's logged-in session: kept while requests for the same mailbox follow each
// other (the runner orders them so), replaced for the next one.
ImapConnector::Session* ImapConnector::user(const std::string& mailbox, ConnectorResult& r) {
    if (!m_user || m_userMailbox != mailbox || !m_user->ok()) {
        m_user.reset();
        m_user = std::make_unique<Session>(m_s, m_password, mailbox);
        m_userMailbox = mailbox;
    }
    if (!m_user->ok()) {
        r = m_user->failure("login to " + mailbox);
        m_user.reset();
        return nullptr;
    }
    return m_user.get();
}

ImapConnector::Session* ImapConnector::quarantine(ConnectorResult& r) {
    if (!m_quarantine || !m_quarantine->ok()) {
        m_quarantine = std::make_unique<Session>(m_s, m_password, m_s.quarantineAccount);
        if (m_quarantine->ok() && !m_quarantine->delimiter(m_qDelimiter)) {
            r = m_quarantine->failure("LIST in " + m_s.quarantineAccount);
            m_quarantine.reset();
            return nullptr;
        }
    }
    if (!m_quarantine->ok()) {
        r = m_quarantine->failure("login to the quarantine account " + m_s.quarantineAccount);
        m_quarantine.reset();
        return nullptr;
    }
    return m_quarantine.get();
}

namespace {

struct Found {
    std::string folder;
    std::vector<long> uids;
};

} // namespace

bool ImapConnector::lookInQuarantine(const CopyRef& copy, QuarantineLookup& out, ConnectorResult& r) {
    out.mailbox = mailboxOf(copy.recipient, m_s.recipientDelimiter);
    out.session = quarantine(r);
    if (!out.session) return false;
    out.folder = quarantineFolder(m_s.quarantine, m_qDelimiter, out.mailbox);
    out.where = m_s.quarantineAccount + "/" + out.folder;
    const int exists = out.session->exists(out.folder);
    if (exists < 0) {
        r = out.session->failure("LIST " + out.where);
        return false;
    }
    out.folderExists = exists == 1;
    if (out.folderExists && !out.session->search(out.folder, copy.messageId, out.uids)) {
        r = out.session->failure("SEARCH " + out.where);
        return false;
    }
    return true;
}

ConnectorResult ImapConnector::suspend(const CopyRef& copy) {
    ConnectorResult r;
    QuarantineLookup look;
    if (!lookInQuarantine(copy, look, r)) return r;
    Session* q = look.session;
    const std::string& mailbox = look.mailbox;
    const std::string& qf = look.folder;
    const std::string& where = look.where;
    std::vector<long>& inQ = look.uids;

    Session* u = user(mailbox, r);
    if (!u) return r;
    std::vector<std::string> folders;
    if (!u->folders(folders)) return u->failure("LIST " + mailbox);
    std::vector<Found> found;
    for (const std::string& f : folders) {
        std::vector<long> uids;
        if (!u->search(f, copy.messageId, uids)) {
            if (!u->ok()) return u->failure("SEARCH " + f);
            continue; // a folder that cannot be selected
        }
        if (!uids.empty()) found.push_back({f, uids});
    }
    auto result = [&](Outcome o, std::string answer, const std::string& folder) {
        ConnectorResult c{o, std::move(answer)};
        c.folder = folder;
        c.mailbox = mailbox;
        return c;
    };
    // Our own earlier work first: a run resumed after a crash must not move anything again.
    if (!inQ.empty()) {
        if (found.empty())
            return result(Outcome::Suspended, "already in quarantine " + where + " (UID " + uidSet(inQ) + ")", copy.folder);
        // Interrupted between APPEND and EXPUNGE: finish the move.
        const Found& f = found.front();
        if (!u->expunge(f.folder, f.uids)) return u->failure("EXPUNGE " + f.folder);
        return result(Outcome::Suspended, "already in quarantine " + where + "; the copy left in " + f.folder + " (UID "
                                              + uidSet(f.uids) + ") expunged", f.folder);
    }
    if (found.empty())
        return result(Outcome::NotFound, "no message <" + copy.messageId + "> in any of the " + std::to_string(folders.size())
                                             + " folders of " + mailbox, "");
    const Found& f = found.front();
    std::vector<Session::Copy> copies;
    for (long uid : f.uids) {
        Session::Copy c;
        if (!u->fetch(f.folder, uid, true, c)) return u->failure("FETCH " + f.folder);
        if (flagsSeen("FLAGS (" + c.flags + ")"))
            return result(Outcome::AlreadyRetrieved, "read: UID " + std::to_string(uid) + " in " + f.folder + " FLAGS (" + c.flags + ")",
                          f.folder);
        copies.push_back(std::move(c));
    }
    if (!look.folderExists && !q->create(qf)) return q->failure("CREATE " + where);
    for (const Session::Copy& c : copies)
        if (!q->append(qf, withoutFlags(c.flags, {"\\Recent", "\\Deleted"}), c.date, c.bytes)) return q->failure("APPEND " + where);
    const std::string appended = q->lastTagged();
    // Read in the meantime? Then the recipient has it: take our copy back out of quarantine.
    for (Session::Copy& c : copies) {
        Session::Copy now;
        if (!u->fetch(f.folder, c.uid, false, now)) return u->failure("FETCH " + f.folder);
        if (flagsSeen("FLAGS (" + now.flags + ")")) {
            std::vector<long> back;
            if (q->search(qf, copy.messageId, back) && !back.empty()) q->expunge(qf, back);
            return result(Outcome::AlreadyRetrieved, "read while being moved: UID " + std::to_string(c.uid) + " in " + f.folder
                                                         + " FLAGS (" + now.flags + ")", f.folder);
        }
    }
    if (!u->expunge(f.folder, f.uids)) return u->failure("EXPUNGE " + f.folder);
    std::vector<long> left;
    if (!u->search(f.folder, copy.messageId, left)) return u->failure("SEARCH " + f.folder);
    if (!left.empty()) return result(Outcome::Failed, "still in " + f.folder + " after EXPUNGE", f.folder);
    return result(Outcome::Suspended, "UID " + uidSet(f.uids) + " of " + mailbox + "/" + f.folder + " moved to quarantine "
                                          + where + " (" + std::to_string(copies.front().bytes.size()) + " bytes, flags ("
                                          + copies.front().flags + ")): " + appended, f.folder);
}

ConnectorResult ImapConnector::remove(const CopyRef& copy) {
    ConnectorResult r;
    QuarantineLookup look;
    if (!lookInQuarantine(copy, look, r)) return r;
    Session* q = look.session;
    const std::string& mailbox = look.mailbox;
    const std::string& qf = look.folder;
    const std::string& where = look.where;
    std::vector<long>& inQ = look.uids;
    ConnectorResult out;
    out.mailbox = mailbox;
    if (inQ.empty()) {
        // Not in quarantine: is it back with the recipient (moved back by someone)?
        Session* u = user(mailbox, r);
        if (!u) return r;
        std::vector<std::string> folders;
        if (!u->folders(folders)) return u->failure("LIST " + mailbox);
        for (const std::string& f : folders) {
            std::vector<long> uids;
            if (!u->search(f, copy.messageId, uids) || uids.empty()) continue;
            Session::Copy c;
            if (!u->fetch(f, uids.front(), false, c)) return u->failure("FETCH " + f);
            out.folder = f;
            out.readWhileSuspended = flagsSeen("FLAGS (" + c.flags + ")");
            // Out of quarantine (someone moved it back): never deleted from the user's folder
            // unasked; read there, the recipient has it and the cascade follows.
            out.outcome = out.readWhileSuspended ? Outcome::AlreadyRetrieved : Outcome::Failed;
            out.answer = "not in quarantine but back in " + mailbox + "/" + f + " (FLAGS (" + c.flags + "))"
                + (out.readWhileSuspended ? ": read while it should have been suspended; not deleted" : ": not deleted");
            return out;
        }
        out.outcome = Outcome::Deleted;
        out.absent = true;
        out.answer = "no longer in quarantine " + where + " (expunged earlier)";
        return out;
    }
    // The state again before acting: \Seen means it was read while suspended.
    std::string flags;
    for (long uid : inQ) {
        Session::Copy c;
        if (!q->fetch(qf, uid, false, c)) return q->failure("FETCH " + where);
        if (flagsSeen("FLAGS (" + c.flags + ")")) out.readWhileSuspended = true;
        flags = c.flags;
    }
    if (!q->expunge(qf, inQ)) return q->failure("EXPUNGE " + where);
    out.outcome = Outcome::Deleted;
    out.answer = "UID " + uidSet(inQ) + " expunged from quarantine " + where + " (FLAGS (" + flags + ")"
        + (out.readWhileSuspended ? ", read while suspended" : "") + "): " + q->lastTagged();
    return out;
}

ConnectorResult ImapConnector::release(const CopyRef& copy) {
    ConnectorResult r;
    QuarantineLookup look;
    if (!lookInQuarantine(copy, look, r)) return r;
    Session* q = look.session;
    const std::string& mailbox = look.mailbox;
    const std::string& qf = look.folder;
    const std::string& where = look.where;
    std::vector<long>& inQ = look.uids;
    Session* u = user(mailbox, r);
    if (!u) return r;
    ConnectorResult out;
    out.mailbox = mailbox;
    // Back where it came from (the inbox when that folder is gone or unknown).
    std::string target = copy.folder.empty() ? m_s.inbox : copy.folder;
    const int tx = u->exists(target);
    if (tx < 0) return u->failure("LIST " + target);
    if (tx == 0) target = m_s.inbox;
    out.folder = target;
    std::vector<long> inTarget;
    if (!u->search(target, copy.messageId, inTarget)) return u->failure("SEARCH " + target);
    if (inQ.empty()) {
        if (!inTarget.empty()) {
            out.outcome = Outcome::Released;
            out.answer = "already back in " + mailbox + "/" + target + " (UID " + uidSet(inTarget) + ")";
            return out;
        }
        out.outcome = Outcome::NotFound;
        out.absent = true;
        out.answer = "no message <" + copy.messageId + "> in quarantine " + where + " or in " + mailbox + "/" + target;
        return out;
    }
    Session::Copy c;
    if (!q->fetch(qf, inQ.front(), true, c)) return q->failure("FETCH " + where);
    out.readWhileSuspended = flagsSeen("FLAGS (" + c.flags + ")");
    // The recipient gets it as it was: unread (it was, or it would not have been suspended),
    // with its other flags and its internal date, byte for byte.
    const std::string flags = withoutFlags(c.flags, {"\\Recent", "\\Deleted", "\\Seen"});
    if (inTarget.empty()) { // not yet appended by an interrupted earlier release
        if (!u->append(target, flags, c.date, c.bytes)) return u->failure("APPEND " + mailbox + "/" + target);
    }
    const std::string appended = u->lastTagged();
    if (!q->expunge(qf, inQ)) return q->failure("EXPUNGE " + where);
    out.outcome = Outcome::Released;
    out.answer = "UID " + uidSet(inQ) + " of quarantine " + where + " back in " + mailbox + "/" + target + " (" + std::to_string(c.bytes.size())
        + " bytes, flags (" + flags + "), internal date " + c.date + ")" + (out.readWhileSuspended ? "; it had been read while suspended" : "")
        + (appended.empty() ? std::string() : ": " + appended);
    return out;
}

} // namespace mt::recall
