// Sendmail's lines (sendmail, sm-mta, sm-msp-queue) in a syslog file, read into the same copies
// as Postfix's: a FreeBSD or Linux host often submits through Sendmail's MSP and hands the
// message to a local Postfix ("stat=Sent (Ok: queued as QID)"), or relays through sm-mta. Each
// Sendmail queue id is a copy on that host; its `to=` lines are deliveries whose "queued as"
// reaches the next copy, so the case joins the hop like any other.
//
//   QID: from=<a@b>, size=N, class=0, nrcpts=N, msgid=<id>, proto=ESMTP, daemon=MTA, relay=host [ip]
//   QID: from=user, size=N, class=0, nrcpts=N, msgid=<id>, relay=user@localhost        (MSP)
//   QID: to=<x@y>,<z@w>, ctladdr=..., delay=..., mailer=relay, pri=..., relay=[127.0.0.1] [127.0.0.1],
//        dsn=2.0.0, stat=Sent (Ok: queued as 4C2B1A0F3)
//   QID: ruleset=check_rcpt, arg1=<x@y>, relay=host [ip], reject=550 5.7.1 <x@y>... Relaying denied
#include "PostfixLog.h"

#include <cctype>
#include <cstring>

namespace mt {

namespace {

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string lowerCopy(std::string_view s) {
    std::string r(s);
    for (char& c : r)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return r;
}

bool isSendmailQueueId(std::string_view s) {
    // 8.12+: 14 characters (yMDhmsNNpppppp); older ones 10-12; a few sites use longer.
    if (s.size() < 8 || s.size() > 20) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
    return true;
}

// Where the field `key` ("relay=") starts: at the beginning or after ", ". npos if absent.
std::size_t fieldPos(std::string_view s, std::string_view key) {
    if (s.substr(0, key.size()) == key) return 0;
    std::size_t from = 0;
    for (;;) {
        const std::size_t k = s.find(key, from);
        if (k == std::string_view::npos) return k;
        if (k >= 2 && s[k - 2] == ',' && s[k - 1] == ' ') return k;
        from = k + 1;
    }
}

// The field's value up to the next ", key=" (values such as stat= may hold commas themselves:
// the last field takes the rest of the line).
std::string_view fieldValue(std::string_view s, std::string_view key, bool* found = nullptr) {
    const std::size_t k = fieldPos(s, key);
    if (found) *found = k != std::string_view::npos;
    if (k == std::string_view::npos) return {};
    std::string_view v = s.substr(k + key.size());
    for (std::size_t i = v.find(", "); i != std::string_view::npos; i = v.find(", ", i + 1)) {
        std::size_t j = i + 2;
        while (j < v.size() && ((v[j] >= 'a' && v[j] <= 'z') || (v[j] >= '0' && v[j] <= '9') || v[j] == '_')) ++j;
        if (j > i + 2 && j < v.size() && v[j] == '=') return v.substr(0, i);
    }
    return v;
}

std::string_view stripAngles(std::string_view a) {
    while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
    if (!a.empty() && a.front() == '<') a.remove_prefix(1);
    if (!a.empty() && a.back() == '>') a.remove_suffix(1);
    return a;
}

// "host [ip]", "[ip] [ip]", "user@host [ip]", "local": host (without the trailing dot) and ip.
void splitRelay(std::string_view r, std::string& user, std::string& host, std::string& ip) {
    user.clear();
    host.clear();
    ip.clear();
    const std::size_t sp = r.find(' ');
    std::string_view name = r.substr(0, sp);
    if (sp != std::string_view::npos) {
        std::string_view rest = r.substr(sp + 1);
        const std::size_t lb = rest.find('['), rb = rest.find(']');
        if (lb != std::string_view::npos && rb != std::string_view::npos && rb > lb) ip.assign(rest.substr(lb + 1, rb - lb - 1));
    }
    if (const std::size_t at = name.find('@'); at != std::string_view::npos) {
        user = lowerCopy(name.substr(0, at));
        name = name.substr(at + 1);
    }
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
        if (ip.empty()) ip.assign(name.substr(1, name.size() - 2));
        name = name.substr(1, name.size() - 2);
    }
    while (!name.empty() && name.back() == '.') name.remove_suffix(1);
    host = lowerCopy(name);
}

} // namespace

PostfixAssembler::Result PostfixAssembler::handleSendmail(const SyslogLine& sl, std::string& why) {
    std::string_view msg = sl.message;
    const std::size_t colon = msg.find(": ");
    std::string_view qid;
    std::string_view rest = msg;
    if (colon != std::string_view::npos && isSendmailQueueId(msg.substr(0, colon))) {
        qid = msg.substr(0, colon);
        rest = msg.substr(colon + 2);
    } else if (startsWith(msg, "NOQUEUE: ")) {
        rest = msg.substr(9);
    }

    // A refused attempt: "ruleset=check_xxx, arg1=..., relay=..., reject=550 ...".
    bool hasReject = false;
    const std::string_view reject = fieldValue(rest, "reject=", &hasReject);
    if (hasReject && startsWith(rest, "ruleset=")) {
        RejectRecord r;
        r.server.assign(sl.host);
        r.time = sl.time;
        r.pid.assign(sl.pid);
        r.queueId.assign(qid);
        const std::string_view ruleset = fieldValue(rest, "ruleset=");
        r.stage = ruleset == "check_rcpt" ? "RCPT" : ruleset == "check_mail" ? "MAIL" : ruleset == "check_relay" ? "CONNECT"
                                                                                                                   : std::string(ruleset);
        const std::string_view arg1 = fieldValue(rest, "arg1=");
        if (ruleset == "check_rcpt") r.recipient = lowerCopy(stripAngles(arg1));
        else if (ruleset == "check_mail") r.sender = lowerCopy(stripAngles(arg1));
        std::string user;
        splitRelay(fieldValue(rest, "relay="), user, r.clientHost, r.clientIp);
        r.reason.assign(reject);
        m_rejects.push_back(std::move(r));
        return Result::Accepted;
    }
    if (qid.empty()) return Result::Accepted; // starting daemon, STARTTLS, AUTH, statistics ...

    if (startsWith(rest, "from=")) {
        const std::string_view sizeText = fieldValue(rest, "size=");
        std::int64_t size = -1;
        if (!sizeText.empty()) {
            size = 0;
            for (char ch : sizeText) {
                if (ch < '0' || ch > '9') {
                    why = "sendmail from= line with an unreadable size=";
                    return Result::Rejected;
                }
                size = size * 10 + (ch - '0');
            }
        }
        CopyRecord& c = copyFor(sl.host, qid, sl.time, false);
        c.origin = sl.program == "sendmail" || sl.program == "sm-msp-queue" ? "sendmail-msp" : "sendmail";
        c.sender = lowerCopy(stripAngles(fieldValue(rest, "from=")));
        if (size >= 0) c.size = size;
        const std::string_view n = fieldValue(rest, "nrcpts=");
        if (!n.empty()) {
            int v = 0;
            for (char ch : n)
                if (ch >= '0' && ch <= '9') v = v * 10 + (ch - '0');
            c.nrcpt = v;
        }
        bool hasMsgId = false;
        std::string_view id = fieldValue(rest, "msgid=", &hasMsgId);
        if (hasMsgId) {
            while (!id.empty() && id.back() == ' ') id.remove_suffix(1);
            const bool bracketed = id.size() > 2 && id.front() == '<' && id.back() == '>';
            if (bracketed) id = id.substr(1, id.size() - 2);
            c.messageId.assign(id);
            c.messageIdValid = bracketed && id.find(' ') == std::string_view::npos && !id.empty();
        }
        std::string user, host, ip;
        splitRelay(fieldValue(rest, "relay="), user, host, ip);
        c.clientHost = host;
        c.clientIp = ip;
        // The MSP names the submitting local user ("relay=joe@localhost"); keep it where an
        // authenticated submitter goes, so that the case says who sent it.
        if (!user.empty()) c.saslUser = user;
        else if (c.origin == "sendmail-msp" && c.sender.find('@') == std::string::npos) c.saslUser = c.sender;
        return Result::Accepted;
    }
    if (startsWith(rest, "to=")) {
        bool hasStat = false;
        const std::string_view stat = fieldValue(rest, "stat=", &hasStat);
        if (!hasStat) {
            why = "sendmail to= line without stat=";
            return Result::Rejected;
        }
        CopyRecord& c = copyFor(sl.host, qid, sl.time, false);
        const std::string_view mailer = fieldValue(rest, "mailer=");
        std::string user, relayHost, relayIp;
        splitRelay(fieldValue(rest, "relay="), user, relayHost, relayIp);
        const std::string_view dsn = fieldValue(rest, "dsn=");
        std::string status;
        if (startsWith(stat, "Sent")) status = "sent";
        else if (startsWith(stat, "Deferred") || (!dsn.empty() && dsn[0] == '4')) status = "deferred";
        else status = "bounced";
        std::string_view response = stat;
        if (const std::size_t lp = response.find('('); lp != std::string_view::npos) {
            response = response.substr(lp + 1);
            if (!response.empty() && response.back() == ')') response.remove_suffix(1);
        }
        // "Ok: queued as QID" (Postfix), "QID Message accepted for delivery" (another Sendmail).
        std::string queuedAs;
        if (const std::size_t qa = response.find("queued as "); qa != std::string_view::npos) {
            std::string_view v = response.substr(qa + 10);
            std::size_t e = 0;
            while (e < v.size() && std::isalnum(static_cast<unsigned char>(v[e]))) ++e;
            queuedAs.assign(v.substr(0, e));
        } else if (const std::size_t ma = response.find(" Message accepted for delivery"); ma != std::string_view::npos) {
            std::string_view v = response.substr(0, ma);
            if (const std::size_t sp = v.rfind(' '); sp != std::string_view::npos) v = v.substr(sp + 1);
            if (isSendmailQueueId(v)) queuedAs.assign(v);
        }
        // to=<a@b>,<c@d> or to=a@b,c@d: one delivery each.
        std::string_view list = fieldValue(rest, "to=");
        while (!list.empty()) {
            const std::size_t comma = list.find(',');
            const std::string_view one = stripAngles(list.substr(0, comma));
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
            if (one.empty()) continue;
            DeliveryRecord* d = &c.deliveryFor(lowerCopy(one));
            // Sendmail's mailers: local and prog deliver here; esmtp, smtp and relay go on.
            d->transport = mailer == "local" || mailer == "prog" || mailer == "cyrusv2" ? "local" : std::string(mailer);
            d->relayHost = relayHost;
            d->relayIp = relayIp;
            d->relayPort = 0;
            d->dsn.assign(dsn);
            d->status = status;
            d->time = sl.time;
            d->response.assign(response.substr(0, 512));
            d->queuedAs = queuedAs;
            ++d->attempts;
        }
        // Sendmail logs no `removed`: the copy is done once every recipient has a final status.
        bool done = c.nrcpt > 0 && static_cast<int>(c.deliveries.size()) >= c.nrcpt;
        for (const auto& d : c.deliveries) done = done && d.status != "deferred";
        if (done) {
            c.removed = true;
            m_probe.server.assign(sl.host);
            m_probe.qid.assign(qid);
            if (auto it = m_open.find(m_probe); it != m_open.end()) close(it);
        }
        return Result::Accepted;
    }
    // DSN notices, clone:, Milter, lost input channel ...: about the copy, no new fields.
    return Result::Accepted;
}

} // namespace mt
