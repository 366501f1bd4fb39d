#include "PostfixQueueConnector.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>

#include <algorithm>
#include <sstream>

namespace mt::recall {

namespace {

std::string lowerAscii(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string stripBrackets(std::string s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(s.begin());
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
    return s;
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

} // namespace

PostfixQueueConnector::PostfixQueueConnector(PostfixSettings settings) : m_s(std::move(settings)) {}

bool PostfixQueueConnector::parseQueue(const std::string& jsonLines, std::vector<QueueEntry>& out, std::string* error) {
    out.clear();
    std::istringstream in(jsonLines);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (trimmed(line).empty()) continue;
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(line), &pe);
        if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
            if (error) *error = "postqueue -j line " + std::to_string(n) + ": not JSON (" + pe.errorString().toStdString() + ")";
            return false;
        }
        const QJsonObject o = doc.object();
        QueueEntry e;
        e.queueName = o.value(QLatin1String("queue_name")).toString().toStdString();
        e.queueId = o.value(QLatin1String("queue_id")).toString().toStdString();
        for (const QJsonValue& r : o.value(QLatin1String("recipients")).toArray())
            e.recipients.push_back(lowerAscii(r.toObject().value(QLatin1String("address")).toString().toStdString()));
        if (e.queueId.empty()) {
            if (error) *error = "postqueue -j line " + std::to_string(n) + ": no queue_id";
            return false;
        }
        out.push_back(std::move(e));
    }
    return true;
}

std::string PostfixQueueConnector::messageIdFromHeaders(const std::string& headers) {
    std::istringstream in(headers);
    std::string line;
    bool in_mid = false;
    std::string value;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (in_mid) {
            if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) { value += line; continue; }
            break;
        }
        if (line.size() >= 11 && lowerAscii(line.substr(0, 11)) == "message-id:") {
            value = line.substr(11);
            in_mid = true;
        }
    }
    return stripBrackets(value);
}

PostfixQueueConnector::CommandResult PostfixQueueConnector::runTool(const std::string& tool,
                                                                    const std::vector<std::string>& args) const {
    QStringList argv;
    for (const std::string& p : m_s.commandPrefix) argv << QString::fromStdString(p);
    argv << QString::fromStdString(tool);
    if (!m_s.configDir.empty()) argv << QStringLiteral("-c") << QString::fromStdString(m_s.configDir);
    for (const std::string& a : args) argv << QString::fromStdString(a);
    CommandResult r;
    QProcess p;
    const QString program = argv.takeFirst();
    p.start(program, argv);
    if (!p.waitForStarted(10000)) {
        r.err = "cannot run " + program.toStdString() + ": " + p.errorString().toStdString();
        return r;
    }
    r.started = true;
    p.closeWriteChannel();
    if (!p.waitForFinished(m_s.timeoutS * 1000)) {
        p.kill();
        p.waitForFinished(2000);
        r.err = program.toStdString() + " timed out after " + std::to_string(m_s.timeoutS) + " s";
        r.started = false; // treat like a server that does not answer
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput().toStdString();
    r.err = p.readAllStandardError().toStdString();
    return r;
}

ConnectorResult PostfixQueueConnector::commandFailure(const std::string& what, const CommandResult& c) const {
    // Not started, timed out, or ssh's own failure (255): the server is unreachable.
    const bool unreachable = !c.started || (!m_s.commandPrefix.empty() && c.exitCode == 255);
    return {unreachable ? Outcome::Unreachable : Outcome::Failed,
            what + " failed" + (c.started ? " (exit " + std::to_string(c.exitCode) + ")" : "") + ": " + trimmed(c.err)};
}

bool PostfixQueueConnector::find(const CopyRef& copy, const QueueEntry*& entry, ConnectorResult& r) {
    entry = nullptr;
    const CommandResult list = runTool(m_s.postqueue, {"-j"});
    if (!list.started || list.exitCode != 0) {
        r = commandFailure("postqueue -j", list);
        return false;
    }
    std::string error;
    if (!parseQueue(list.out, m_queue, &error)) {
        r = {Outcome::Failed, error};
        return false;
    }
    // Queue ids are reused: a cached Message-ID is kept only while its queue file is listed.
    for (auto it = m_messageIds.begin(); it != m_messageIds.end();) {
        const bool listed = std::any_of(m_queue.begin(), m_queue.end(), [&](const QueueEntry& e) { return e.queueId == it->first; });
        it = listed ? std::next(it) : m_messageIds.erase(it);
    }
    const std::string rcpt = lowerAscii(copy.recipient);
    std::vector<const QueueEntry*> candidates;
    for (const QueueEntry& e : m_queue) {
        bool has = false;
        for (const std::string& a : e.recipients) has = has || a == rcpt;
        if (!has) continue;
        // The queue id the case knows first; the others only when it does not match.
        if (e.queueId == copy.queueId) candidates.insert(candidates.begin(), &e);
        else candidates.push_back(&e);
    }
    for (const QueueEntry* e : candidates) {
        auto it = m_messageIds.find(e->queueId);
        if (it == m_messageIds.end()) {
            const CommandResult cat = runTool(m_s.postcat, {"-h", "-q", e->queueId});
            if (!cat.started) {
                r = commandFailure("postcat -hq " + e->queueId, cat);
                return false;
            }
            if (cat.exitCode != 0) continue; // removed meanwhile
            it = m_messageIds.emplace(e->queueId, messageIdFromHeaders(cat.out)).first;
        }
        if (it->second == copy.messageId) {
            entry = e;
            return true;
        }
    }
    return true;
}

// postsuper reports on stderr only when that is a terminal: the outcome is checked by listing
// the queue again, not by its words.
std::string PostfixQueueConnector::describe(const std::string& cmd, const CommandResult& c, const std::string& after) {
    std::string a = trimmed(c.err);
    return cmd + ": exit 0" + (a.empty() ? std::string() : " (" + a + ")") + "; " + after;
}

ConnectorResult PostfixQueueConnector::suspend(const CopyRef& copy) {
    const QueueEntry* e = nullptr;
    ConnectorResult r;
    if (!find(copy, e, r)) return r;
    if (!e) return {Outcome::NotFound, "no queue file for <" + copy.messageId + "> to " + copy.recipient + " (delivered or removed)"};
    if (e->queueName == "hold") {
        ConnectorResult held{Outcome::Suspended, "already on hold (queue id " + e->queueId + ")"};
        held.folder = copy.folder.empty() ? "queue:hold" : copy.folder;
        return held;
    }
    const std::string qid = e->queueId, cmd = "postsuper -h " + qid, was = "queue:" + e->queueName;
    const CommandResult c = runTool(m_s.postsuper, {"-h", qid});
    if (!c.started || c.exitCode != 0) return commandFailure(cmd, c);
    if (!find(copy, e, r)) return r;
    if (!e) return {Outcome::NotFound, cmd + ": the queue file left the queue meanwhile (delivered)"};
    if (e->queueName != "hold") return {Outcome::Failed, cmd + ": still in the " + e->queueName + " queue"};
    ConnectorResult held{Outcome::Suspended, describe(cmd, c, "queue id " + qid + " on hold (was in the " + was.substr(6) + " queue)")};
    held.folder = was;
    return held;
}

ConnectorResult PostfixQueueConnector::remove(const CopyRef& copy) {
    const QueueEntry* e = nullptr;
    ConnectorResult r;
    if (!find(copy, e, r)) return r;
    if (!e) {
        ConnectorResult gone{Outcome::Deleted, "no longer in the queue (deleted earlier, or released and delivered)"};
        gone.absent = true;
        return gone;
    }
    if (e->queueName != "hold")
        return {Outcome::Failed, "queue id " + e->queueId + " is in the " + e->queueName + " queue, not on hold: not deleted"};
    // Restricted to the hold queue: only what we suspended can go.
    const std::string qid = e->queueId, cmd = "postsuper -d " + qid + " hold";
    const CommandResult c = runTool(m_s.postsuper, {"-d", qid, "hold"});
    m_messageIds.erase(qid);
    if (!c.started || c.exitCode != 0) return commandFailure(cmd, c);
    if (!find(copy, e, r)) return r;
    if (e) return {Outcome::Failed, cmd + ": still in the " + e->queueName + " queue"};
    return {Outcome::Deleted, describe(cmd, c, "queue id " + qid + " gone from the queue")};
}

ConnectorResult PostfixQueueConnector::release(const CopyRef& copy) {
    const QueueEntry* e = nullptr;
    ConnectorResult r;
    if (!find(copy, e, r)) return r;
    if (!e) {
        ConnectorResult gone{Outcome::Released, "no longer in the queue (released and delivered earlier)"};
        gone.absent = true;
        return gone;
    }
    if (e->queueName != "hold") return {Outcome::Released, "not on hold (in the " + e->queueName + " queue)"};
    const std::string qid = e->queueId, cmd = "postsuper -H " + qid;
    const CommandResult c = runTool(m_s.postsuper, {"-H", qid});
    if (!c.started || c.exitCode != 0) return commandFailure(cmd, c);
    if (!find(copy, e, r)) return r;
    if (e && e->queueName == "hold") return {Outcome::Failed, cmd + ": still on hold"};
    return {Outcome::Released, describe(cmd, c, e ? "queue id " + qid + " now in the " + e->queueName + " queue" : "queue id " + qid + " delivered")};
}

} // namespace mt::recall
