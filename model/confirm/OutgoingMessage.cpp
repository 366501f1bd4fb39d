#include "OutgoingMessage.h"

#include <QDateTime>
#include <QUuid>

#include <algorithm>
#include <cctype>

namespace mt::confirm {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

struct HeaderField {
    std::size_t begin, end; // [begin, end) in the bytes, end after the last line break
    std::string name, value; // value unfolded
};

// Header fields from `from` up to the empty line (or the end).
std::vector<HeaderField> scanHeader(const std::string& b, std::size_t from, std::size_t* bodyStart = nullptr) {
    std::vector<HeaderField> out;
    std::size_t pos = from;
    while (pos < b.size()) {
        std::size_t eol = b.find('\n', pos);
        const std::size_t lineEnd = eol == std::string::npos ? b.size() : eol + 1;
        std::string_view line(b.data() + pos, lineEnd - pos);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        if (line.empty()) {
            if (bodyStart) *bodyStart = lineEnd;
            return out;
        }
        if ((line[0] == ' ' || line[0] == '\t') && !out.empty()) {
            out.back().value += " ";
            std::string_view cont = line;
            while (!cont.empty() && (cont.front() == ' ' || cont.front() == '\t')) cont.remove_prefix(1);
            out.back().value += cont;
            out.back().end = lineEnd;
        } else {
            const std::size_t colon = line.find(':');
            HeaderField f{pos, lineEnd, {}, {}};
            if (colon != std::string_view::npos) {
                f.name = std::string(line.substr(0, colon));
                std::string_view v = line.substr(colon + 1);
                while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
                f.value = std::string(v);
            }
            out.push_back(std::move(f));
        }
        pos = lineEnd;
    }
    if (bodyStart) *bodyStart = b.size();
    return out;
}

// The value of parameter `param` (and its RFC 2231 continuations param*0, param*1 ...).
std::string parameter(std::string_view value, std::string_view param) {
    std::string lower(value);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string joined;
    auto readAt = [&](std::size_t p) {
        std::string v;
        while (p < value.size() && value[p] == ' ') ++p;
        if (p < value.size() && value[p] == '"') {
            ++p;
            while (p < value.size() && value[p] != '"') {
                if (value[p] == '\\' && p + 1 < value.size()) ++p;
                v += value[p++];
            }
        } else {
            while (p < value.size() && value[p] != ';' && value[p] != ' ') v += value[p++];
        }
        return v;
    };
    const std::string plain = std::string(param) + "=";
    for (std::size_t p = 0; (p = lower.find(plain, p)) != std::string::npos; p += plain.size())
        if (p == 0 || lower[p - 1] == ';' || lower[p - 1] == ' ' || lower[p - 1] == '\t') return readAt(p + plain.size());
    // RFC 2231: name*=utf-8''x, name*0=..., name*1*=...
    for (int i = -1; i < 64; ++i) {
        bool found = false;
        for (const std::string& key : i < 0 ? std::vector<std::string>{std::string(param) + "*="}
                                            : std::vector<std::string>{std::string(param) + "*" + std::to_string(i) + "=",
                                                                       std::string(param) + "*" + std::to_string(i) + "*="}) {
            const std::size_t p = lower.find(key);
            if (p == std::string::npos) continue;
            std::string v = readAt(p + key.size());
            if (key.back() == '=' && key[key.size() - 2] == '*') {
                if (const std::size_t q = v.find("''"); q != std::string::npos && (i <= 0)) v = v.substr(q + 2);
                std::string dec;
                for (std::size_t k = 0; k < v.size(); ++k)
                    if (v[k] == '%' && k + 2 < v.size() && std::isxdigit(static_cast<unsigned char>(v[k + 1]))
                        && std::isxdigit(static_cast<unsigned char>(v[k + 2]))) {
                        dec += static_cast<char>(std::stoi(v.substr(k + 1, 2), nullptr, 16));
                        k += 2;
                    } else dec += v[k];
                v = dec;
            }
            joined += v;
            found = true;
            break;
        }
        if (i < 0 && found) return joined;
        if (i >= 0 && !found) break;
    }
    return joined;
}

} // namespace

OutgoingMessage::OutgoingMessage(std::string bytes) : m_bytes(std::move(bytes)) {
    const std::size_t nl = m_bytes.find('\n');
    if (nl != std::string::npos && nl > 0 && m_bytes[nl - 1] == '\r') m_eol = "\r\n";
}

std::size_t OutgoingMessage::headerEnd() const {
    std::size_t body = m_bytes.size();
    scanHeader(m_bytes, 0, &body);
    return body;
}

std::string OutgoingMessage::header(std::string_view name) const {
    for (const HeaderField& f : scanHeader(m_bytes, 0))
        if (iequals(f.name, name)) return f.value;
    return {};
}

std::string OutgoingMessage::ensureMessageId(const std::string& domain) {
    std::string id = messageId();
    if (!id.empty()) return id;
    id = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMddHHmmss")).toStdString() + "."
         + QUuid::createUuid().toString(QUuid::Id128).left(16).toStdString() + "@" + (domain.empty() ? "localhost" : domain);
    m_bytes.insert(0, "Message-ID: <" + id + ">" + m_eol);
    return id;
}

std::vector<std::string> OutgoingMessage::headerRecipients() const {
    std::vector<std::string> out;
    for (const HeaderField& f : scanHeader(m_bytes, 0))
        if (iequals(f.name, "To") || iequals(f.name, "Cc") || iequals(f.name, "Bcc"))
            for (std::string& a : parseAddressList(f.value)) out.push_back(std::move(a));
    return out;
}

std::vector<std::string> OutgoingMessage::attachmentNames() const {
    std::vector<std::string> out;
    auto consider = [&](const HeaderField& f) {
        const bool disp = iequals(f.name, "Content-Disposition"), type = iequals(f.name, "Content-Type");
        if (!disp && !type) return;
        std::string n = parameter(f.value, disp ? "filename" : "name");
        if (!n.empty() && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(std::move(n));
    };
    std::size_t body = 0;
    for (const HeaderField& f : scanHeader(m_bytes, 0, &body)) consider(f);
    // MIME part headers: each starts after a boundary line ("--...").
    for (std::size_t pos = body; pos < m_bytes.size();) {
        std::size_t eol = m_bytes.find('\n', pos);
        if (eol == std::string::npos) break;
        if (m_bytes.compare(pos, 2, "--") == 0)
            for (const HeaderField& f : scanHeader(m_bytes, eol + 1)) consider(f);
        pos = eol + 1;
    }
    return out;
}

void OutgoingMessage::setConfirmHeader(const std::string& value) {
    const std::vector<HeaderField> fields = scanHeader(m_bytes, 0);
    for (auto it = fields.rbegin(); it != fields.rend(); ++it)
        if (iequals(it->name, kHeaderName)) m_bytes.erase(it->begin, it->end - it->begin);
    m_bytes.insert(0, std::string(kHeaderName) + ": " + value + m_eol);
}

std::vector<std::string> parseAddressList(std::string_view v) {
    std::vector<std::string> out;
    std::string cur;
    int angle = 0, paren = 0;
    bool quoted = false;
    std::string inAngle;
    bool sawAngle = false;
    auto flush = [&] {
        std::string a = sawAngle ? inAngle : cur;
        a = normaliseAddress(a);
        // A group's display name ("undisclosed-recipients:;") is no address.
        if (const std::size_t colon = a.find(':'); colon != std::string::npos && a.find('@') == std::string::npos) a.clear();
        if (!a.empty() && a.back() == ';') a.pop_back();
        if (const std::size_t colon = a.rfind(':'); colon != std::string::npos) a = a.substr(colon + 1);
        a = normaliseAddress(a);
        if (a.find('@') != std::string::npos) out.push_back(a);
        cur.clear();
        inAngle.clear();
        sawAngle = false;
    };
    for (char c : v) {
        if (quoted) {
            if (c == '"') quoted = false;
            continue;
        }
        if (paren) {
            if (c == '(') ++paren;
            else if (c == ')') --paren;
            continue;
        }
        if (c == '"') quoted = true;
        else if (c == '(') ++paren;
        else if (c == '<') {
            angle = 1;
            sawAngle = true;
            inAngle.clear();
        } else if (c == '>') angle = 0;
        else if (c == ',' && !angle) flush();
        else if (angle) inAngle += c;
        else cur += c;
    }
    flush();
    return out;
}

Criteria evaluateCriteria(const SendPolicy& policy, std::int64_t now, const std::vector<std::int64_t>& recentSends,
                          std::size_t recipients, const std::vector<std::string>& attachments, std::string* why) {
    Criteria c;
    std::string reasons;
    auto say = [&](const std::string& s) { reasons += (reasons.empty() ? "" : "; ") + s; };
    const std::int64_t since = now - static_cast<std::int64_t>(policy.windowMinutes) * 60;
    const std::int64_t inWindow = 1 + std::count_if(recentSends.begin(), recentSends.end(), [&](std::int64_t t) { return t > since && t <= now; });
    if (inWindow > policy.maxMessages) {
        c.rate = true;
        say(std::to_string(inWindow) + " messages in the last " + std::to_string(policy.windowMinutes) + " minutes (more than "
            + std::to_string(policy.maxMessages) + ")");
    }
    for (const std::string& a : attachments)
        if (riskyAttachment(a, policy.riskyExtensions)) {
            c.attachment = true;
            say("attachment " + a + " can run code");
            break;
        }
    if (static_cast<std::int64_t>(recipients) > policy.maxRecipients) {
        c.recipients = true;
        say(std::to_string(recipients) + " recipients (more than " + std::to_string(policy.maxRecipients) + ")");
    }
    if (policy.always) {
        c.always = true;
        if (reasons.empty()) say("every message is confirmed");
    }
    if (why) *why = reasons;
    return c;
}

} // namespace mt::confirm
