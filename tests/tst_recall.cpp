// Recall (issue 6): the request state machine, the schema migration to v3 and the append-only
// audit trail, the server directory's checks, the demo connector's determinism, plan building
// (external recipients are not recallable), idempotent runs and resume after a crash, retries,
// cancel and a worker thread, verdicts (virus deletes only what is suspended, clean releases
// and allow-lists), the cascade round by round on the demo case, and the CLI contract. The
// IMAP and Postfix connectors run against real servers in tests/integration/recall_e2e.sh.
#include "model/CaseStore.h"
#include "model/detection/CaseDetection.h"
#include "model/recall/AllowList.h"
#include "model/recall/DemoConnector.h"
#include "model/recall/ImapConnector.h"
#include "model/recall/PostfixQueueConnector.h"
#include "model/recall/RecallPlan.h"
#include "model/recall/RecallRun.h"
#include "model/recall/RecallStore.h"
#include "model/recall/Verdict.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <map>
#include <set>
#include <sys/stat.h>
#include <thread>

using namespace mt;
using namespace mt::recall;

namespace {

struct CliResult {
    int code = -1;
    QByteArray out, err;
};

CliResult cli(const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(MT_CLI_PATH), args);
    p.waitForFinished(300000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(), p.readAllStandardError()};
}

QString demoDir() { return QStringLiteral(MT_TEST_DATA "/../../resources/demo"); }

std::int64_t countState(RecallStore& s, State st) {
    RequestFilter f;
    f.states = {st};
    return static_cast<std::int64_t>(s.requests(f).size());
}

} // namespace

// Plans the recall of `msgs`, approves every proposed request and runs them as `analyst`.
static void recallApproveAndRun(CaseStore& cs, const ServerDirectory& dir, const std::vector<std::int64_t>& msgs, const std::string& analyst) {
    const Plan plan = buildPlan(cs.db(), dir, msgs, analyst);
    RecallStore store(cs.db());
    approveRequests(store, plan.proposedIds, analyst);
    RecallRunner runner(cs.db(), dir);
    RunOptions o;
    o.analyst = analyst;
    runner.run(o);
}

class TestRecall : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_demoCase; // imported + detected once; each test works on a copy
    int m_copies = 0;

    QString freshDemo() {
        const QString path = m_tmp.filePath(QStringLiteral("demo-%1.mtcase").arg(++m_copies));
        if (!QFile::copy(m_demoCase, path)) qFatal("cannot copy the demo case");
        return path;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_demoCase = m_tmp.filePath(QStringLiteral("demo.mtcase"));
        QDir d(demoDir());
        QStringList args{QStringLiteral("import"), QStringLiteral("--case"), m_demoCase, QStringLiteral("--org"), d.filePath(QStringLiteral("org.csv"))};
        for (const QString& f : d.entryList({QStringLiteral("mail*.log.gz")}, QDir::Files, QDir::Name)) args << d.filePath(f);
        const CliResult imp = cli(args);
        QVERIFY2(imp.code == 0, imp.err.constData());
        const CliResult det = cli({QStringLiteral("detect"), QStringLiteral("--case"), m_demoCase});
        QVERIFY2(det.code == 0, det.err.constData());
    }

    // ------------------------------------------------------------ states and schema
    void stateMachine() {
        for (int i = 0; i <= static_cast<int>(State::Cascaded); ++i) {
            const State s = static_cast<State>(i);
            QCOMPARE(stateFromName(stateName(s)).value(), s);
        }
        QCOMPARE(stateFromName("already_retrieved").value(), State::AlreadyRetrieved);
        QVERIFY(!stateFromName("held").has_value());
        QVERIFY(transitionAllowed(State::Proposed, State::Approved));
        QVERIFY(transitionAllowed(State::Approved, State::Requested));
        QVERIFY(transitionAllowed(State::Requested, State::Suspended));
        QVERIFY(transitionAllowed(State::Requested, State::Requested)); // resume
        QVERIFY(transitionAllowed(State::Unreachable, State::Requested)); // retry
        QVERIFY(transitionAllowed(State::Suspended, State::Deleted));
        QVERIFY(transitionAllowed(State::Suspended, State::Released));
        QVERIFY(transitionAllowed(State::AlreadyRetrieved, State::Cascaded)); // legacy cases
        // Issue 16: a refused login or refused settings are retried; a not-found copy that has
        // moved is planned again.
        QVERIFY(transitionAllowed(State::Requested, State::AuthFailed));
        QVERIFY(transitionAllowed(State::Requested, State::Refused));
        QVERIFY(transitionAllowed(State::AuthFailed, State::Requested));
        QVERIFY(transitionAllowed(State::Refused, State::Requested));
        QVERIFY(transitionAllowed(State::NotFound, State::Proposed));
        QVERIFY(!transitionAllowed(State::NotFound, State::Requested));
        // Nothing skips approval, nothing deletes what was not suspended, final is final.
        QVERIFY(!transitionAllowed(State::Proposed, State::Requested));
        QVERIFY(!transitionAllowed(State::AlreadyRetrieved, State::Deleted));
        QVERIFY(!transitionAllowed(State::Requested, State::Deleted));
        QVERIFY(!transitionAllowed(State::NotRecallable, State::Approved));
        for (State f : {State::Deleted, State::Released, State::Cascaded})
            for (int i = 0; i <= static_cast<int>(State::Cascaded); ++i) QVERIFY(!transitionAllowed(f, static_cast<State>(i)));

        CaseStore cs;
        cs.open(freshDemo());
        RecallStore store(cs.db());
        const Plan plan = buildPlan(cs.db(), ServerDirectory::demoEverywhere(), campaignMessages(cs.db(), 1), "ann");
        const std::int64_t id = plan.proposedIds.front();
        QVERIFY_THROWS_EXCEPTION(std::logic_error, store.transition(id, State::Proposed, State::Deleted, "ann", "x", ""));
        QVERIFY(!store.transition(id, State::Approved, State::Requested, "ann", "request", "")); // it is not approved
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, store.approve(id, ""));
        QVERIFY(store.approve(id, "ann"));
        QVERIFY(!store.approve(id, "ann")); // once
        Request r;
        QVERIFY(store.request(id, r));
        QCOMPARE(r.state, State::Approved);
        QCOMPARE(QString::fromStdString(r.approvedBy), QStringLiteral("ann"));
        QVERIFY(r.approvedAt > 0);
    }

    void migrationToV3AndAppendOnlyAudit() {
        const QString path = m_tmp.filePath(QStringLiteral("v2.mtcase"));
        {
            CaseStore s;
            s.open(path);
            QCOMPARE(s.schemaVersion(), CaseStore::kSchemaVersion);
            s.db().exec("DROP TABLE audit; DROP TABLE allow_entries; DROP TABLE verdict_messages; DROP TABLE verdicts; DROP TABLE recall_requests; "
                        "DROP TABLE recall_runs; PRAGMA user_version = 2");
            QVERIFY_THROWS_EXCEPTION(SqliteError, RecallStore{s.db()}); // no recall tables yet: refused with a reason
        }
        CaseStore s;
        s.open(path);
        QCOMPARE(s.schemaVersion(), CaseStore::kSchemaVersion);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                               "('recall_requests', 'recall_runs', 'audit', 'allow_entries', 'verdicts', 'verdict_messages')"),
                 6);
        RecallStore store(s.db());
        store.audit({0, 0, "ann", "note", "mx1", 0, "m@x", "r@x", "", "", "first"});
        store.audit({0, 0, "ann", "note", "mx1", 0, "m@x", "r@x", "", "", "second, with \"quotes\"\nand a line"});
        QVERIFY_THROWS_EXCEPTION(SqliteError, s.db().exec("UPDATE audit SET analyst = 'mallory'"));
        QVERIFY_THROWS_EXCEPTION(SqliteError, s.db().exec("DELETE FROM audit"));
        QCOMPARE(store.auditTrail().size(), std::size_t(2));
        QCOMPARE(QString::fromStdString(store.auditTrail()[0].analyst), QStringLiteral("ann"));
        // A request's state is checked by SQLite too.
        QVERIFY_THROWS_EXCEPTION(SqliteError, s.db().exec(
            "INSERT INTO recall_requests(message_id, message_key, recipient, server, place, state, created_at, updated_at) "
            "VALUES(1, 'm', 'r', 's', 'mailbox', 'held', 0, 0)"));
        // CSV export: header, RFC 4180 quoting.
        const QString csv = m_tmp.filePath(QStringLiteral("audit.csv"));
        QVERIFY(store.exportAuditCsv(csv));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        QVERIFY(text.startsWith(QStringLiteral("id,time,analyst,action,server,request_id,message_id,recipient,from,to,answer\r\n")));
        QVERIFY(text.contains(QStringLiteral("\"second, with \"\"quotes\"\"\nand a line\"")));
        QString error;
        QVERIFY(!store.exportAuditCsv(QStringLiteral("/nonexistent-dir/x.csv"), &error));
        QVERIFY(!error.isEmpty());
    }

    // ------------------------------------------------------------ the server directory
    // (URLs in raw strings are written "imap:\/\/host": moc takes "//" there for a comment.)
    // Schema 6 (issue 16): 'cascaded' hid that the copy had been read; old rows keep the fact.
    void migrationToV6KeepsTheReadFact() {
        const QString path = m_tmp.filePath(QStringLiteral("v5.mtcase"));
        {
            CaseStore s;
            s.open(path);
            s.db().exec(
                "DROP TABLE recall_requests;\n"
                "CREATE TABLE recall_requests(id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL, message_key TEXT NOT NULL,\n"
                "  recipient TEXT NOT NULL, server TEXT NOT NULL, place TEXT NOT NULL, queue_id TEXT, delivered_at INTEGER, connector TEXT,\n"
                "  campaign_id INTEGER, campaign_label TEXT, round INTEGER NOT NULL DEFAULT 0, parent_request_id INTEGER,\n"
                "  state TEXT NOT NULL CHECK(state IN ('proposed','approved','requested','suspended','already-retrieved','not-found',\n"
                "                                      'unreachable','not-recallable','deleted','released','cascaded')),\n"
                "  detail TEXT, attempts INTEGER NOT NULL DEFAULT 0, approved_by TEXT, approved_at INTEGER, run_id INTEGER,\n"
                "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE(message_id, recipient, server));\n"
                "INSERT INTO recall_requests(message_id, message_key, recipient, server, place, state, created_at, updated_at) VALUES\n"
                "  (1, 'a@x', 'alice@x', 'mx1', 'mailbox', 'cascaded', 1, 7),\n"
                "  (1, 'a@x', 'bob@x', 'mx1', 'mailbox', 'already-retrieved', 1, 8),\n"
                "  (1, 'a@x', 'carol@x', 'mx1', 'mailbox', 'deleted', 1, 9);\n"
                "PRAGMA user_version = 5;\n");
        }
        CaseStore s;
        s.open(path);
        QCOMPARE(s.schemaVersion(), CaseStore::kSchemaVersion);
        RecallStore store(s.db());
        std::map<std::string, Request> by;
        for (const Request& r : store.requests()) by[r.recipient] = r;
        QCOMPARE(by.size(), std::size_t(3));
        QCOMPARE(by["alice@x"].state, State::AlreadyRetrieved);
        QCOMPARE(by["alice@x"].cascadedAt, std::int64_t(7));
        QCOMPARE(by["alice@x"].status(), std::string("already read; cascade followed"));
        QCOMPARE(by["bob@x"].read, ReadState::BeforeRecall);
        QCOMPARE(by["bob@x"].cascadedAt, std::int64_t(0));
        QCOMPARE(by["carol@x"].read, ReadState::Unread);
        QCOMPARE(by["carol@x"].status(), std::string("deleted"));
        // The new states are accepted by the table.
        s.db().exec("UPDATE recall_requests SET state = 'auth-failed' WHERE recipient = 'carol@x'");
        QVERIFY_THROWS_EXCEPTION(SqliteError, s.db().exec("UPDATE recall_requests SET state = 'bogus'"));
    }

    void serverDirectoryParsing_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("error"); // a fragment of the expected error
        QTest::newRow("not json") << QByteArray("{servers: ") << "not valid JSON";
        QTest::newRow("array") << QByteArray("[]") << "expected a JSON object";
        QTest::newRow("no servers") << QByteArray("{}") << "servers: expected an array";
        QTest::newRow("unknown top") << QByteArray(R"({"servers": [], "sever": 1})") << "unknown key 'sever'";
        QTest::newRow("no host") << QByteArray(R"({"servers": [{"demo": {}}]})") << "servers[0].host: required";
        QTest::newRow("twice") << QByteArray(R"({"servers": [{"host": "a", "demo": {}}, {"host": "a", "demo": {}}]})") << "listed twice";
        QTest::newRow("nothing") << QByteArray(R"({"servers": [{"host": "mx1"}]})") << "give imap, postfix or demo";
        QTest::newRow("plain password")
            << QByteArray(R"({"servers": [{"host": "mx1", "imap": {"url": "imaps:\/\/h", "admin_user": "a", "password": "x"}}]})")
            << "secrets are not kept in this file";
        QTest::newRow("no secret")
            << QByteArray(R"({"servers": [{"host": "mx1", "imap": {"url": "imaps:\/\/h", "admin_user": "a"}}]})")
            << "exactly one of password_env, password_file or password_keyring";
        QTest::newRow("bad url")
            << QByteArray(R"({"servers": [{"host": "mx1", "imap": {"url": "http:\/\/h", "admin_user": "a", "password_env": "X"}}]})")
            << "servers[0] (mx1).imap.url";
        QTest::newRow("url path")
            << QByteArray(R"({"servers": [{"host": "mx1", "imap": {"url": "imap:\/\/h/INBOX", "admin_user": "a", "password_env": "X"}}]})")
            << "no mailbox path";
        QTest::newRow("bad tls")
            << QByteArray(R"({"servers": [{"host": "mx1", "imap": {"url": "imap:\/\/h", "tls": "maybe", "admin_user": "a", "password_env": "X"}}]})")
            << ".tls: expected implicit, starttls or none";
        QTest::newRow("implicit on imap://")
            << QByteArray(R"({"servers": [{"host": "mx1", "imap": {"url": "imap:\/\/h", "tls": "implicit", "admin_user": "a", "password_env": "X"}}]})")
            << "implicit TLS needs an imaps:// url";
        QTest::newRow("no admin")
            << QByteArray(R"({"servers": [{"host": "mx1", "imap": {"url": "imaps:\/\/h", "password_env": "X"}}]})") << "admin_user: required";
        QTest::newRow("bad login")
            << QByteArray(R"({"servers": [{"host": "mx1", "imap": {"url": "imaps:\/\/h", "admin_user": "a", "password_env": "X", "login": "su"}}]})")
            << "login: expected master or authzid";
        QTest::newRow("timeout")
            << QByteArray(R"({"servers": [{"host": "mx1", "imap": {"url": "imaps:\/\/h", "admin_user": "a", "password_env": "X", "timeout_s": 0}}]})")
            << "timeout_s: expected an integer";
        QTest::newRow("imap:// without tls")
            << QByteArray(R"({"servers": [{"host": "mx1", "imap": {"url": "imap:\/\/h", "admin_user": "a", "password_env": "X", "quarantine_account": "q@h"}}]})")
            << "needs \"tls\": \"starttls\"";
        QTest::newRow("no quarantine account")
            << QByteArray(R"({"servers": [{"host": "mx1", "imap": {"url": "imaps:\/\/h", "admin_user": "a", "password_env": "X"}}]})")
            << "quarantine_account: required";
        QTest::newRow("two secrets")
            << QByteArray(R"({"servers": [{"host": "mx1", "imap": {"url": "imaps:\/\/h", "admin_user": "a", "password_env": "X", "password_keyring": true, "quarantine_account": "q@h"}}]})")
            << "exactly one of password_env, password_file or password_keyring";
        QTest::newRow("prefix type") << QByteArray(R"({"servers": [{"host": "mx1", "postfix": {"command_prefix": 5}}]})") << "command_prefix";
        QTest::newRow("demo mixed") << QByteArray(R"({"servers": [{"host": "mx1", "postfix": {}, "demo": {}}]})") << "demo cannot be combined";
        QTest::newRow("retry") << QByteArray(R"({"retry": {"attempts": 0}, "servers": []})") << "retry.attempts";
    }
    void serverDirectoryParsing() {
        QFETCH(QByteArray, json);
        QFETCH(QString, error);
        ServerDirectory d;
        QString e;
        QVERIFY(!d.loadJson(json, &e));
        QVERIFY2(e.contains(error), qPrintable(e));
    }
    void serverDirectoryLookupAndSecrets() {
        const QString secret = m_tmp.filePath(QStringLiteral("secret"));
        {
            QFile f(secret);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("s3cret\n");
        }
        ::chmod(QFile::encodeName(secret).constData(), 0644);
        const QByteArray json = QStringLiteral(R"({"retry": {"attempts": 4, "backoff_ms": 10}, "servers": [
          {"host": "mx1", "imap": {"url": "imaps:\/\/mx1.example.org:993", "admin_user": "admin", "password_file": "%1",
                                   "quarantine_account": "quarantine@example.org"},
                          "postfix": {"command_prefix": "ssh root@mx1", "config_dir": "/etc/postfix"}},
          {"host": "mx2", "imap": {"url": "imap:\/\/mx2:143", "tls": "starttls", "admin_user": "admin", "login": "authzid",
                                   "password_env": "MT_TST_RECALL_PW", "quarantine_account": "q@example.org", "recipient_delimiter": "+-"}},
          {"host": "*", "demo": {"fail_first": 1}}]})").arg(secret).toUtf8();
        ServerDirectory d;
        QString e;
        QVERIFY2(d.loadJson(json, &e), qPrintable(e));
        QCOMPARE(d.retry().attempts, 4);
        QCOMPARE(d.connectorKindFor("mx1", Place::Mailbox), std::string("imap"));
        QCOMPARE(d.connectorKindFor("mx1", Place::Queue), std::string("postfix"));
        QCOMPARE(d.connectorKindFor("mx2", Place::Queue), std::string()); // no queue connector there
        QCOMPARE(d.connectorKindFor("mx9", Place::Mailbox), std::string("demo")); // the "*" entry
        QCOMPARE(d.entryFor("mx1")->postfix->commandPrefix, (std::vector<std::string>{"ssh", "root@mx1"}));
        QVERIFY(d.entryFor("mx1")->imap->tls == ImapSettings::Tls::Implicit);
        QVERIFY(d.entryFor("mx2")->imap->tls == ImapSettings::Tls::StartTls);
        QCOMPARE(d.entryFor("mx1")->imap->recipientDelimiter, std::string("+")); // Dovecot's default
        QCOMPARE(d.entryFor("mx2")->imap->quarantineAccount, std::string("q@example.org"));
        QVERIFY(d.entryFor("mx2")->imap->login == ImapSettings::Login::AuthzId);
        std::string err;
        // A password file others can read is refused, when the directory is checked (before
        // anything is planned) and when a connector is made; 0600 is accepted.
        qputenv("MT_TST_RECALL_PW", "x");
        QVERIFY(!d.checkSecrets(&e));
        QVERIFY2(e.contains(QStringLiteral("servers[0] (mx1).imap")) && e.contains(QStringLiteral("readable by others")), qPrintable(e));
        QVERIFY(!d.makeConnector("mx1", Place::Mailbox, nullptr, &err));
        QVERIFY2(QString::fromStdString(err).contains(QStringLiteral("readable by others")), err.c_str());
        ::chmod(QFile::encodeName(secret).constData(), 0600);
        std::string pw;
        QVERIFY(readSecret(*d.entryFor("mx1")->imap, pw, &err));
        QCOMPARE(pw, std::string("s3cret"));
        QVERIFY(d.makeConnector("mx1", Place::Mailbox, nullptr, &err) != nullptr);
        QVERIFY2(d.checkSecrets(&e), qPrintable(e));
        qunsetenv("MT_TST_RECALL_PW");
        QVERIFY(!d.checkSecrets(&e));
        QVERIFY2(e.contains(QStringLiteral("servers[1] (mx2)")) && e.contains(QStringLiteral("MT_TST_RECALL_PW")), qPrintable(e));
        QVERIFY(!d.makeConnector("mx2", Place::Mailbox, nullptr, &err));
        QVERIFY(QString::fromStdString(err).contains(QStringLiteral("MT_TST_RECALL_PW")));
        qputenv("MT_TST_RECALL_PW", "x");
        QVERIFY(d.makeConnector("mx2", Place::Mailbox, nullptr, &err) != nullptr);
        QVERIFY(!d.makeConnector("mx2", Place::Queue, nullptr, &err));
        // What a settings dialog saves reads back the same; the file is the owner's alone.
        const QString saved = m_tmp.filePath(QStringLiteral("saved-servers.json"));
        QVERIFY(d.saveFile(saved, &e));
        QCOMPARE(QFileInfo(saved).permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup), QFileDevice::Permissions());
        ServerDirectory back;
        QVERIFY2(back.loadFile(saved, &e), qPrintable(e));
        QCOMPARE(back.toJson(), d.toJson());
        QCOMPARE(back.entryFor("mx1")->postfix->configDir, std::string("/etc/postfix"));
        QVERIFY(back.entryFor("mx2")->imap->login == ImapSettings::Login::AuthzId);
        QCOMPARE(back.entryFor("mx9")->demo->failFirst, 1);
        QVERIFY(!d.toJson().contains("s3cret"));
        QVERIFY(!d.loadFile(m_tmp.filePath(QStringLiteral("missing.json")), &e));
        QVERIFY(e.contains(QStringLiteral("missing.json")));
    }

    // Issue 16: the keyring secret is held in memory only, never written with the directory.
    void keyringSecretInMemoryOnly() {
        ServerDirectory d;
        QString e;
        QVERIFY2(d.loadJson("{\"servers\": [{\"host\": \"mx1\", \"imap\": {\"url\": \"imaps:\\/\\/h\", \"admin_user\": \"a\",\n                 \"password_keyring\": true, \"quarantine_account\": \"q@h\"}}]}", &e), qPrintable(e));
        QVERIFY(!d.checkSecrets(&e));
        QVERIFY2(e.contains(QStringLiteral("keyring")), qPrintable(e));
        std::string err;
        QVERIFY(!d.makeConnector("mx1", Place::Mailbox, nullptr, &err));
        d.setSecret("mx1", "k3yring-s3cret");
        QVERIFY2(d.checkSecrets(&e), qPrintable(e));
        QVERIFY(d.makeConnector("mx1", Place::Mailbox, nullptr, &err) != nullptr);
        QVERIFY(!d.toJson().contains("k3yring-s3cret"));
        QVERIFY(d.toJson().contains("\"password_keyring\": true"));
    }

    // Issue 16: plus-addressing, LIST answers, FETCH answers, quarantine folder names.
    void mailboxesAndFolders() {
        QCOMPARE(mailboxOf("dave+news@corp.example", "+"), std::string("dave@corp.example"));
        QCOMPARE(mailboxOf("dave-news@corp.example", "+-"), std::string("dave@corp.example"));
        QCOMPARE(mailboxOf("dave+news@corp.example", ""), std::string("dave+news@corp.example"));
        QCOMPARE(mailboxOf("+x@corp.example", "+"), std::string("+x@corp.example")); // no local part left: kept
        QCOMPARE(mailboxOf("dave@corp+x.example", "+"), std::string("dave@corp+x.example")); // only in the local part
        ImapConnector::ListEntry l;
        QVERIFY(ImapConnector::parseList("(\\HasNoChildren) \".\" INBOX", l));
        QCOMPARE(l.name, std::string("INBOX"));
        QCOMPARE(l.delimiter, std::string("."));
        QVERIFY(l.selectable);
        QVERIFY(ImapConnector::parseList("(\\HasNoChildren \\Junk) \"/\" \"Old Mail/Junk \\\"x\\\"\"", l));
        QCOMPARE(l.name, std::string("Old Mail/Junk \"x\""));
        QVERIFY(ImapConnector::parseList("(\\Noselect \\HasChildren) \".\" Archive", l));
        QVERIFY(!l.selectable);
        QVERIFY(ImapConnector::parseList("(\\HasNoChildren) NIL {5}Notes", l));
        QCOMPARE(l.name, std::string("Notes"));
        QCOMPARE(l.delimiter, std::string());
        const std::string fetch = "* 3 FETCH (UID 9 FLAGS (\\Flagged $Label1) INTERNALDATE \"06-Dec-2026 06:00:01 +0000\" BODY[] {12}";
        QCOMPARE(ImapConnector::fetchFlags(fetch), std::string("\\Flagged $Label1"));
        QCOMPARE(ImapConnector::fetchInternalDate(fetch), std::string("06-Dec-2026 06:00:01 +0000"));
        QCOMPARE(ImapConnector::quarantineFolder("Quarantine", ".", "carol@example.test"), std::string("Quarantine.carol@example_test"));
        QCOMPARE(ImapConnector::quarantineFolder("Quarantine", "/", "a.b%*@x"), std::string("Quarantine/a.b__@x"));
        // One vocabulary: the read fact stays beside whatever happened to the copy afterwards.
        QCOMPARE(copyStatus(State::AlreadyRetrieved, ReadState::BeforeRecall, true), std::string("already read; cascade followed"));
        QCOMPARE(copyStatus(State::Deleted, ReadState::WhileSuspended, false), std::string("deleted; read while suspended"));
        QCOMPARE(copyStatus(State::AuthFailed, ReadState::Unread, false), std::string("login refused"));
        QCOMPARE(copyStatus(State::AlreadyRetrieved, ReadState::WhileSuspended, true), std::string("read while suspended; cascade followed"));
        // The exports' SQL says the same words as the panel and the CLI, for every combination.
        {
            CaseStore cs;
            cs.open(freshDemo());
            SqliteStmt st = cs.db().prepare("SELECT " + copyStatusSql() + " FROM (SELECT ?1 AS state, ?2 AS read_state, ?3 AS cascaded_at)");
            for (int i = 0; i <= static_cast<int>(State::Cascaded); ++i)
                for (ReadState rd : {ReadState::Unread, ReadState::BeforeRecall, ReadState::WhileSuspended})
                    for (bool cascaded : {false, true}) {
                        const State stt = static_cast<State>(i);
                        st.bind(1, std::string_view(stateName(stt))).bind(2, std::string_view(readStateName(rd)));
                        if (cascaded) st.bind(3, std::int64_t(5)); else st.bindNull(3);
                        QVERIFY(st.step());
                        QCOMPARE(st.text(0), copyStatus(stt, rd, cascaded));
                        st.reset();
                    }
        }
        for (int i = 0; i <= static_cast<int>(State::Cascaded); ++i) {
            const State st = static_cast<State>(i);
            QCOMPARE(stateFromName(stateName(st)), std::optional<State>(st));
            QVERIFY(std::string(stateDescription(st)).size() > 10);
        }
    }

    // ------------------------------------------------------------ connector parsers
    void connectorParsers() {
        QCOMPARE(ImapConnector::parseSearch("* SEARCH 3 17 200\r\n"), (std::vector<long>{3, 17, 200}));
        QCOMPARE(ImapConnector::parseSearch("* SEARCH\r\n"), std::vector<long>{});
        QVERIFY(ImapConnector::flagsSeen("* 1 FETCH (UID 4 FLAGS (\\Seen \\Answered))\r\n"));
        QVERIFY(!ImapConnector::flagsSeen("* 1 FETCH (UID 4 FLAGS (\\Recent))\r\n"));
        QVERIFY(!ImapConnector::flagsSeen("* 1 FETCH (UID 4 FLAGS ())\r\n"));
        std::vector<PostfixQueueConnector::QueueEntry> q;
        std::string err;
        QVERIFY(PostfixQueueConnector::parseQueue(
            R"({"queue_name": "deferred", "queue_id": "4F1A2B", "recipients": [{"address": "P1@Partner.test", "delay_reason": "x"}]})"
            "\n"
            R"({"queue_name": "hold", "queue_id": "77AA", "recipients": [{"address": "a@x"}, {"address": "b@x"}]})"
            "\n",
            q, &err));
        QCOMPARE(q.size(), std::size_t(2));
        QCOMPARE(q[0].recipients.front(), std::string("p1@partner.test"));
        QCOMPARE(q[1].queueName, std::string("hold"));
        QVERIFY(!PostfixQueueConnector::parseQueue("{\"queue_name\": \n", q, &err));
        QVERIFY(QString::fromStdString(err).contains(QStringLiteral("line 1")));
        QCOMPARE(PostfixQueueConnector::messageIdFromHeaders("Subject: x\nMessage-Id: <abc@d.e>\nFrom: y\n"), std::string("abc@d.e"));
        QCOMPARE(PostfixQueueConnector::messageIdFromHeaders("MESSAGE-ID:\n <folded@d.e>\nX: y\n"), std::string("folded@d.e"));
        QCOMPARE(PostfixQueueConnector::messageIdFromHeaders("Subject: x\n"), std::string());
        // A server whose tools cannot run is unreachable, not a hard failure.
        PostfixSettings ps;
        ps.postqueue = "/nonexistent/postqueue";
        PostfixQueueConnector pc(ps);
        CopyRef ref;
        ref.messageId = "m@x";
        ref.recipient = "r@x";
        QCOMPARE(pc.suspend(ref).outcome, Outcome::Unreachable);
    }

    // ------------------------------------------------------------ demo connector
    void demoDeterminism() {
        DemoWorld a(1000000000000), b(1000000000000);
        int read = 0;
        const int n = 20000;
        for (int i = 0; i < n; ++i) {
            const std::string mid = "m" + std::to_string(i) + "@x", rcpt = "user" + std::to_string(i % 97) + "@corp";
            const std::int64_t t = a.readTime(mid, rcpt, 999000000000);
            QCOMPARE(t, b.readTime(mid, rcpt, 999000000000));
            QCOMPARE(t, a.readTime(mid, "USER" + std::to_string(i % 97) + "@CORP", 999000000000)); // case-blind
            if (t != DemoWorld::kNever) {
                ++read;
                QVERIFY(t >= 999000000000);
            }
        }
        const double share = static_cast<double>(read) / n;
        QVERIFY2(share > DemoWorld::kReadProbability - 0.02 && share < DemoWorld::kReadProbability + 0.02, qPrintable(QString::number(share)));
        // Whoever sent it on had read it by then.
        DemoWorld c(5000);
        const std::string never = [&] {
            for (int i = 0;; ++i)
                if (c.readTime("x" + std::to_string(i), "r@x", 0) == DemoWorld::kNever) return "x" + std::to_string(i);
        }();
        c.setSentOn(never, "r@x", 1234);
        QCOMPARE(c.readTime(never, "r@x", 0), std::int64_t(1234));

        // The same case recalled twice from scratch gives the same answers, request by request.
        std::map<std::string, std::string> first;
        for (int round = 0; round < 2; ++round) {
            CaseStore cs;
            cs.open(freshDemo());
            const ServerDirectory dir = ServerDirectory::demoEverywhere();
            const Plan plan = buildPlan(cs.db(), dir, campaignMessages(cs.db(), 1), "ann");
            RecallStore store(cs.db());
            approveRequests(store, plan.proposedIds, "ann");
            RecallRunner runner(cs.db(), dir);
            RunOptions o;
            o.analyst = "ann";
            runner.run(o);
            for (const Request& r : store.requests()) {
                const std::string key = r.messageKey + "|" + r.recipient;
                if (round == 0) first[key] = stateName(r.state);
                else QCOMPARE(QString::fromStdString(stateName(r.state)), QString::fromStdString(first[key]));
            }
        }
        QVERIFY(first.size() > 200);
    }

    // ------------------------------------------------------------ plans
    void planBuilding() {
        CaseStore cs;
        cs.open(freshDemo());
        SqliteDb& db = cs.db();
        const std::vector<std::int64_t> msgs = campaignMessages(db, 1);
        QCOMPARE(msgs.size(), std::size_t(280));
        QVERIFY(campaignMessages(db, 99).empty());
        // Only mx1 and mx2 have connectors: the rest of our servers are not recallable for now.
        ServerDirectory partial;
        QString e;
        QVERIFY(partial.loadJson(R"({"servers": [{"host": "mx1", "demo": {}}, {"host": "mx2", "demo": {}}]})", &e));
        const Plan plan = buildPlan(db, partial, msgs, "ann");
        // What the case says, counted independently.
        const std::int64_t finals = db.scalar(
            "SELECT count(*) FROM (SELECT DISTINCT c.message_id, lower(d.recipient), coalesce(ds.name, d.destination) "
            "FROM copies c JOIN deliveries d ON d.copy_id = c.id LEFT JOIN servers ds ON ds.id = d.destination_server_id "
            "WHERE d.is_final = 1 AND c.message_id IN (SELECT message_id FROM campaign_messages WHERE campaign_id = 1))");
        const std::int64_t external = db.scalar(
            "SELECT count(*) FROM copies c JOIN deliveries d ON d.copy_id = c.id WHERE d.is_final = 1 AND d.status = 'sent' "
            "AND d.destination_server_id IS NULL AND c.message_id IN (SELECT message_id FROM campaign_messages WHERE campaign_id = 1)");
        const std::int64_t onMx12 = db.scalar(
            "SELECT count(*) FROM copies c JOIN deliveries d ON d.copy_id = c.id JOIN servers s ON s.id = d.destination_server_id "
            "WHERE d.is_final = 1 AND d.status = 'sent' AND s.name IN ('mx1', 'mx2') "
            "AND c.message_id IN (SELECT message_id FROM campaign_messages WHERE campaign_id = 1)");
        QVERIFY(external > 0);
        QCOMPARE(plan.copies, finals);
        QCOMPARE(plan.recallable, onMx12);
        QCOMPARE(static_cast<std::int64_t>(plan.proposedIds.size()), onMx12);
        RecallStore store(db);
        std::int64_t ext = 0, noConnector = 0;
        for (const Request& r : store.requests()) {
            if (r.place == Place::External) {
                ++ext;
                QCOMPARE(r.state, State::NotRecallable);
                QVERIFY(QString::fromStdString(r.detail).startsWith(QStringLiteral("external recipient")));
            } else if (r.server != "mx1" && r.server != "mx2") {
                ++noConnector;
                QCOMPARE(r.state, State::NotRecallable);
                QVERIFY(QString::fromStdString(r.detail).startsWith(QStringLiteral("no connector")));
            }
            QCOMPARE(r.campaignId, std::int64_t(1));
            QVERIFY(!r.campaignLabel.empty());
        }
        QCOMPARE(ext, external);
        QVERIFY(noConnector > 0);
        QCOMPARE(plan.servers.at("mx1").connector, std::string("demo"));
        // A connector added later: planning again turns those into proposals; external stays.
        const Plan again = buildPlan(db, ServerDirectory::demoEverywhere(), msgs, "ann");
        QCOMPARE(again.copies, finals);
        QCOMPARE(again.notRecallable, external);
        QCOMPARE(static_cast<std::int64_t>(again.proposedIds.size()), finals - external);
        QCOMPARE(store.counts().requests, finals); // no duplicates
        // Message-IDs with or without brackets; unknown ones reported.
        std::vector<std::string> unknown;
        SqliteStmt st = db.prepare("SELECT message_id FROM messages WHERE id = ?1");
        st.bind(1, msgs.front());
        QVERIFY(st.step());
        const std::string mid = st.text(0);
        QCOMPARE(messagesByMessageId(db, {"<" + mid + ">", mid, "nope@x"}, &unknown), std::vector<std::int64_t>{msgs.front()});
        QCOMPARE(unknown, std::vector<std::string>{"nope@x"});
        // Without a usable Message-ID no connector could tell the copy from others: not recallable.
        db.exec("UPDATE messages SET id_valid = 0 WHERE id = " + std::to_string(msgs[1]));
        buildPlan(db, ServerDirectory::demoEverywhere(), {msgs[1]}, "ann");
        RequestFilter f;
        f.caseMessageIds = {msgs[1]};
        const std::vector<Request> broken = store.requests(f);
        QVERIFY(!broken.empty());
        for (const Request& r : broken) QCOMPARE(r.state, State::NotRecallable);
    }

    // ------------------------------------------------------------ runs
    void idempotentRuns() {
        CaseStore cs;
        cs.open(freshDemo());
        const ServerDirectory dir = ServerDirectory::demoEverywhere();
        const Plan plan = buildPlan(cs.db(), dir, campaignMessages(cs.db(), 1), "ann");
        RecallStore store(cs.db());
        QCOMPARE(approveRequests(store, plan.proposedIds, "ann"), static_cast<std::int64_t>(plan.proposedIds.size()));
        auto world = DemoWorld::fromCase(cs.db());
        RecallRunner runner(cs.db(), dir);
        RunOptions o;
        o.analyst = "ann";
        o.demo = world;
        std::vector<std::int64_t> seen;
        o.progress = [&](const RunProgress& p) {
            QVERIFY(p.done <= p.total);
            if (p.last) seen.push_back(p.last->requestId);
        };
        const RunReport first = runner.run(o);
        QCOMPARE(first.processed, static_cast<std::int64_t>(plan.proposedIds.size()));
        QCOMPARE(seen.size(), plan.proposedIds.size());
        const std::int64_t suspended = countState(store, State::Suspended);
        QVERIFY(suspended > 0);
        QVERIFY(countState(store, State::AlreadyRetrieved) > 0);
        QCOMPARE(world->moves(), suspended);
        const std::size_t auditRows = store.auditTrail().size();
        // Again: nothing is eligible, nothing moves, nothing is asked of any server.
        const RunReport second = runner.run(o);
        QCOMPARE(second.processed, std::int64_t(0));
        QCOMPARE(world->moves(), suspended);
        QCOMPARE(store.auditTrail().size(), auditRows);
        // Planning the same messages again changes nothing either.
        const Plan replan = buildPlan(cs.db(), dir, campaignMessages(cs.db(), 1), "ann");
        QVERIFY(replan.proposedIds.empty());
        QCOMPARE(replan.alreadyKnown, replan.copies);
        QCOMPARE(countState(store, State::Suspended), suspended);
        // And the connector itself, asked twice, finds its own work.
        for (const Request& r : store.requests({{State::Suspended}, {}, {}, -1})) {
            const ConnectorResult c = world->suspend(r.copyRef());
            QCOMPARE(c.outcome, Outcome::Suspended);
            QVERIFY(QString::fromStdString(c.answer).contains(QStringLiteral("already")));
        }
        QCOMPARE(world->moves(), suspended);
    }

    void resumeAfterCrash() {
        CaseStore cs;
        cs.open(freshDemo());
        const ServerDirectory dir = ServerDirectory::demoEverywhere();
        const Plan plan = buildPlan(cs.db(), dir, campaignMessages(cs.db(), 1), "ann");
        RecallStore store(cs.db());
        approveRequests(store, plan.proposedIds, "ann");
        auto world = DemoWorld::fromCase(cs.db());
        // The crash: half the requests were marked 'requested'; for some of those the server
        // had already acted before the process died (it never got to record the answer).
        std::int64_t n = 0, actedBeforeCrash = 0;
        for (std::int64_t id : plan.proposedIds) {
            if (n++ % 2) continue;
            QVERIFY(store.transition(id, State::Approved, State::Requested, "ann", "request", "asking"));
            Request r;
            QVERIFY(store.request(id, r));
            if (n % 3 == 0 && world->suspend(r.copyRef()).outcome == Outcome::Suspended) ++actedBeforeCrash;
        }
        QVERIFY(actedBeforeCrash > 0);
        QVERIFY(countState(store, State::Requested) > 0);
        RecallRunner runner(cs.db(), dir);
        RunOptions o;
        o.analyst = "ann";
        o.demo = world;
        const RunReport rep = runner.run(o);
        QCOMPARE(rep.processed, static_cast<std::int64_t>(plan.proposedIds.size()));
        QCOMPARE(countState(store, State::Requested), std::int64_t(0));
        QCOMPARE(countState(store, State::Approved), std::int64_t(0));
        // Every suspended copy moved exactly once, whether before or after the crash.
        QCOMPARE(world->moves(), countState(store, State::Suspended));
        bool resumed = false;
        for (const AuditEntry& a : store.auditTrail()) resumed = resumed || a.answer == "resumed after an interrupted run";
        QVERIFY(resumed);
    }

    void retriesUnreachableAndCancel() {
        CaseStore cs;
        cs.open(freshDemo());
        ServerDirectory flaky;
        QString e;
        // mx1 answers from the second attempt on; mx2 never; the rest always.
        QVERIFY(flaky.loadJson(R"({"retry": {"attempts": 3, "backoff_ms": 5}, "servers": [
            {"host": "mx1", "demo": {"fail_first": 1}}, {"host": "mx2", "demo": {"unreachable": true}}, {"host": "*", "demo": {}}]})", &e));
        const Plan plan = buildPlan(cs.db(), flaky, campaignMessages(cs.db(), 1), "ann");
        RecallStore store(cs.db());
        approveRequests(store, plan.proposedIds, "ann");
        RecallRunner runner(cs.db(), flaky);
        RunOptions o;
        o.analyst = "ann";
        const RunReport rep = runner.run(o);
        int mx1First = 0, mx2Tried = 0, mx2NotTried = 0;
        for (const RequestResult& r : rep.results) {
            if (r.server == "mx1" && r.attempts == 2) ++mx1First;
            if (r.server == "mx1") QVERIFY(r.to != State::Unreachable);
            if (r.server == "mx2") {
                QCOMPARE(r.to, State::Unreachable);
                if (r.attempts == 3) ++mx2Tried;
                if (QString::fromStdString(r.answer).startsWith(QStringLiteral("not tried"))) ++mx2NotTried;
            }
        }
        QCOMPARE(mx1First, 1);  // the first request needed a retry, the connection then stays up
        QCOMPARE(mx2Tried, 1);  // one request backed off through every attempt ...
        QCOMPARE(mx2NotTried, static_cast<int>(plan.servers.at("mx2").recallable) - 1); // ... the rest were not hammered
        const std::int64_t unreachable = countState(store, State::Unreachable);
        QCOMPARE(unreachable, plan.servers.at("mx2").recallable);
        // mx2 is back: the next run retries exactly the unreachable ones. Cancel it halfway,
        // from the progress callback, as a GUI's Cancel button would.
        std::atomic_bool cancel{false};
        RecallRunner healthy(cs.db(), ServerDirectory::demoEverywhere());
        RunOptions o2;
        o2.analyst = "ann";
        o2.cancel = &cancel;
        o2.progress = [&](const RunProgress& p) {
            if (p.done == 5) cancel = true;
        };
        const RunReport part = healthy.run(o2);
        QVERIFY(part.cancelled);
        QCOMPARE(part.processed, std::int64_t(5));
        QCOMPARE(countState(store, State::Unreachable), unreachable - 5);
        o2.cancel = nullptr;
        o2.progress = nullptr;
        const RunReport rest = healthy.run(o2);
        QCOMPARE(rest.processed, unreachable - 5);
        QCOMPARE(countState(store, State::Unreachable), std::int64_t(0));
        SqliteStmt runs = cs.db().prepare("SELECT status FROM recall_runs ORDER BY id");
        QStringList statuses;
        while (runs.step()) statuses << QString::fromStdString(runs.text(0));
        QCOMPARE(statuses, (QStringList{"done", "cancelled", "done"}));
    }

    void runsOnAWorkerThread() {
        const QString path = freshDemo();
        {
            CaseStore cs;
            cs.open(path);
            const Plan plan = buildPlan(cs.db(), ServerDirectory::demoEverywhere(), campaignMessages(cs.db(), 1), "ann");
            RecallStore store(cs.db());
            approveRequests(store, plan.proposedIds, "ann");
        }
        std::atomic<std::int64_t> progressed{0};
        std::thread::id progressThread, mainThread = std::this_thread::get_id();
        RunReport rep;
        std::thread worker([&] {
            CaseStore cs; // the worker's own connection
            cs.open(path);
            const ServerDirectory dir = ServerDirectory::demoEverywhere();
            RecallRunner runner(cs.db(), dir);
            RunOptions o;
            o.analyst = "ann";
            o.progress = [&](const RunProgress& p) {
                progressed = p.done;
                progressThread = std::this_thread::get_id();
            };
            rep = runner.run(o);
        });
        worker.join();
        QVERIFY(rep.processed > 0);
        QCOMPARE(progressed.load(), rep.processed);
        QVERIFY(progressThread != mainThread);
    }

    // ------------------------------------------------------------ verdicts
    void verdictVirus() {
        CaseStore cs;
        cs.open(freshDemo());
        const ServerDirectory dir = ServerDirectory::demoEverywhere();
        const std::vector<std::int64_t> msgs = campaignMessages(cs.db(), 1);
        RecallStore store(cs.db());
        RecallRunner runner(cs.db(), dir);
        recallApproveAndRun(cs, dir, msgs, "ann");
        const std::int64_t suspended = countState(store, State::Suspended), retrieved = countState(store, State::AlreadyRetrieved);
        const std::int64_t notRecallable = countState(store, State::NotRecallable);
        // Nothing is deleted without a virus verdict, even when asked to.
        RunOptions del;
        del.analyst = "mallory";
        del.action = RunAction::Delete;
        const RunReport refused = runner.run(del);
        QCOMPARE(refused.outcomes.at("refused"), suspended);
        QCOMPARE(countState(store, State::Suspended), suspended);
        QCOMPARE(countState(store, State::Deleted), std::int64_t(0));

        VerdictOptions v;
        v.kind = VerdictKind::Virus;
        v.analyst = "bea";
        v.campaignId = 1;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, applyVerdict(cs.db(), dir, VerdictOptions{VerdictKind::Virus, "", 1, {}, {}, {}, nullptr, nullptr}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, applyVerdict(cs.db(), dir, VerdictOptions{VerdictKind::Virus, "bea", 42, {}, {}, {}, nullptr, nullptr}));
        const VerdictReport rep = applyVerdict(cs.db(), dir, v);
        QCOMPARE(rep.messages, std::int64_t(280));
        QCOMPARE(rep.run.outcomes.at("deleted"), suspended);
        QCOMPARE(countState(store, State::Deleted), suspended);
        QCOMPARE(countState(store, State::Suspended), std::int64_t(0));
        // The read copies stay "already read" (issue 16); the cascade followed each of them.
        QCOMPARE(countState(store, State::Cascaded), std::int64_t(0));
        QCOMPARE(countState(store, State::AlreadyRetrieved), retrieved);
        QCOMPARE(cs.db().scalar("SELECT count(*) FROM recall_requests WHERE state = 'already-retrieved' AND cascaded_at IS NULL "
                                "AND round = 0"), std::int64_t(0));
        QCOMPARE(countState(store, State::NotRecallable), notRecallable); // untouched
        QCOMPARE(countState(store, State::Released), std::int64_t(0));
        QCOMPARE(rep.cascade.retrieved, retrieved);
        // The whole campaign was recalled at once: what the readers sent on is already known.
        QVERIFY(rep.cascade.sentOn > 0);
        QVERIFY(rep.cascade.proposedIds.empty());
        QCOMPARE(cs.db().scalar("SELECT count(*) FROM verdicts WHERE verdict = 'virus' AND analyst = 'bea'"), std::int64_t(1));
        // Deletes are on record with who and what the server said.
        QCOMPARE(cs.db().scalar("SELECT count(*) FROM audit WHERE action = 'delete' AND analyst = 'bea' AND answer LIKE 'demo:%'"), suspended);
        QCOMPARE(cs.db().scalar("SELECT count(*) FROM audit WHERE action = 'delete-refused' AND analyst = 'mallory'"), suspended);
    }

    // Issue 14: the analyst leaves a branch of the propagation tree out of a virus verdict;
    // its suspended copies stay suspended (nothing of it deleted), the rest is deleted.
    void verdictLeavesABranchOut() {
        CaseStore cs;
        cs.open(freshDemo());
        const ServerDirectory dir = ServerDirectory::demoEverywhere();
        const std::vector<std::int64_t> msgs = campaignMessages(cs.db(), 1);
        RecallStore store(cs.db());
        recallApproveAndRun(cs, dir, msgs, "ann");
        // A generation-1 message with descendants: its branch.
        const std::int64_t root = cs.db().scalar(
            "SELECT cm.message_id FROM campaign_messages cm WHERE cm.campaign_id = 1 AND cm.generation = 1 AND EXISTS "
            "(SELECT 1 FROM campaign_messages c2 WHERE c2.parent_message_id = cm.message_id) ORDER BY cm.message_id LIMIT 1");
        QVERIFY(root > 0);
        CampaignExclusions ex;
        ex.branchRoots = {root};
        std::int64_t left = 0;
        const std::vector<std::int64_t> kept = withoutExcluded(cs.db(), 1, msgs, ex, &left);
        QVERIFY(left >= 2);
        QCOMPARE(static_cast<std::int64_t>(kept.size()) + left, static_cast<std::int64_t>(msgs.size()));
        const std::int64_t branchSuspended = cs.db().scalar(
            "WITH RECURSIVE b(id) AS (SELECT " + std::to_string(root) + " UNION SELECT cm.message_id FROM campaign_messages cm "
            "JOIN b ON cm.parent_message_id = b.id) SELECT count(*) FROM recall_requests WHERE state = 'suspended' AND message_id IN b");
        QVERIFY(branchSuspended > 0);
        const std::int64_t suspended = countState(store, State::Suspended);
        VerdictOptions v;
        v.kind = VerdictKind::Virus;
        v.analyst = "bea";
        v.campaignId = 1;
        v.exclude = ex;
        const VerdictReport rep = applyVerdict(cs.db(), dir, v);
        QCOMPARE(rep.excluded, left);
        QCOMPARE(rep.messages, static_cast<std::int64_t>(kept.size()));
        QCOMPARE(countState(store, State::Suspended), branchSuspended);
        QCOMPARE(countState(store, State::Deleted), suspended - branchSuspended);
        // Leaving out what only joined by a link: the demo's campaign is all strong evidence.
        CampaignExclusions joined;
        joined.joinedByLink = true;
        std::int64_t none = -1;
        withoutExcluded(cs.db(), 1, msgs, joined, &none);
        QCOMPARE(none, cs.db().scalar("SELECT count(*) FROM campaign_messages WHERE campaign_id = 1 AND source <> 'rules'"));
    }

    void verdictOnMessagesAndTheLatestVerdictRules() {
        CaseStore cs;
        cs.open(freshDemo());
        const ServerDirectory dir = ServerDirectory::demoEverywhere();
        const Plan plan = buildPlan(cs.db(), dir, campaignMessages(cs.db(), 1), "ann");
        RecallStore store(cs.db());
        approveRequests(store, plan.proposedIds, "ann");
        RecallRunner runner(cs.db(), dir);
        RunOptions o;
        o.analyst = "ann";
        runner.run(o);
        const std::vector<Request> suspended = store.requests({{State::Suspended}, {}, {}, -1});
        QVERIFY(suspended.size() > 10);
        // A verdict on five messages deletes their suspended copies and nothing else.
        std::set<std::int64_t> judged;
        for (std::size_t i = 0; i < 5; ++i) judged.insert(suspended[i].caseMessageId);
        VerdictOptions v;
        v.analyst = "bea";
        v.messageIds.assign(judged.begin(), judged.end());
        const VerdictReport rep = applyVerdict(cs.db(), dir, v);
        std::int64_t expected = 0;
        for (const Request& r : suspended) expected += judged.count(r.caseMessageId);
        QCOMPARE(countState(store, State::Deleted), expected);
        QCOMPARE(countState(store, State::Suspended), static_cast<std::int64_t>(suspended.size()) - expected);
        QCOMPARE(rep.messages, static_cast<std::int64_t>(judged.size()));
        // The latest verdict on a message decides.
        const std::int64_t m = suspended.back().caseMessageId;
        QVERIFY(!store.hasVirusVerdictFor(m));
        store.addVerdict("virus", "bea", 0, "", {m});
        QVERIFY(store.hasVirusVerdictFor(m));
        store.addVerdict("clean", "carl", 0, "", {m});
        QVERIFY(!store.hasVirusVerdictFor(m));
        RunOptions del;
        del.analyst = "bea";
        del.action = RunAction::Delete;
        del.requestIds = {suspended.back().id};
        QCOMPARE(runner.run(del).outcomes.at("refused"), std::int64_t(1));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, store.addVerdict("maybe", "bea", 0, "", {m}));
    }

    void verdictCleanAndAllowList() {
        const QString path = freshDemo();
        CaseStore cs;
        cs.open(path);
        const ServerDirectory dir = ServerDirectory::demoEverywhere();
        const Plan plan = buildPlan(cs.db(), dir, campaignMessages(cs.db(), 1), "ann");
        RecallStore store(cs.db());
        approveRequests(store, plan.proposedIds, "ann");
        RecallRunner runner(cs.db(), dir);
        RunOptions o;
        o.analyst = "ann";
        runner.run(o);
        const std::int64_t suspended = countState(store, State::Suspended), retrieved = countState(store, State::AlreadyRetrieved);
        VerdictOptions v;
        v.kind = VerdictKind::Clean;
        v.analyst = "bea";
        v.campaignId = 1;
        const VerdictReport rep = applyVerdict(cs.db(), dir, v);
        QCOMPARE(countState(store, State::Released), suspended);
        QCOMPARE(countState(store, State::Suspended), std::int64_t(0));
        QCOMPARE(countState(store, State::Deleted), std::int64_t(0));
        QCOMPARE(countState(store, State::AlreadyRetrieved), retrieved); // a clean verdict leaves read copies be
        QVERIFY(rep.allowEntries > 0);
        QCOMPARE(cs.db().scalar("SELECT count(*) FROM allow_entries"), rep.allowEntries);
        // A second clean verdict adds no duplicate entries and releases nothing twice.
        const VerdictReport again = applyVerdict(cs.db(), dir, v);
        QCOMPARE(again.allowEntries, std::int64_t(0));
        QCOMPARE(again.run.processed, std::int64_t(0));
        // Detection respects the allow list: the worm is no longer flagged; without the
        // entries it is flagged again.
        const det::CaseDetectionReport d = det::CaseDetection::run(cs);
        QVERIFY(!d.upToDate && !d.incremental);
        QCOMPARE(d.flagged, std::int64_t(0));
        QCOMPARE(d.campaigns, 0);
        QCOMPARE(cs.db().scalar("SELECT count(*) FROM campaign_messages"), std::int64_t(0));
        cs.db().exec("DELETE FROM allow_entries");
        const det::CaseDetectionReport d2 = det::CaseDetection::run(cs, false);
        QCOMPARE(d2.flagged, std::int64_t(280));
        // The requests survive the campaigns being replaced: they point at messages.
        QCOMPARE(countState(store, State::Released), suspended);
        QCOMPARE(allowKey("A@B.C", "Re: Invoice 4711", {"Scan_0042.PDF", "a.txt"}).attachments, std::string("a.txt|scan_#.pdf"));
    }

    void cascadeRoundsOnTheDemo() {
        CaseStore cs;
        cs.open(freshDemo());
        SqliteDb& db = cs.db();
        const ServerDirectory dir = ServerDirectory::demoEverywhere();
        // Start from generation 0 only (patient zero's messages), as an analyst would who
        // caught the first burst; the cascade must find the rest, round by round.
        std::vector<std::int64_t> gen0;
        SqliteStmt st = db.prepare("SELECT message_id FROM campaign_messages WHERE campaign_id = 1 AND generation = 0");
        while (st.step()) gen0.push_back(st.int64(0));
        QVERIFY(!gen0.empty());
        RecallStore store(db);
        Plan plan = buildPlan(db, dir, gen0, "ann");
        std::vector<std::int64_t> toApprove = plan.proposedIds;
        auto world = DemoWorld::fromCase(db);
        int rounds = 0;
        std::vector<std::int64_t> proposedPerRound;
        while (!toApprove.empty() && rounds < 20) {
            approveRequests(store, toApprove, "ann");
            RecallRunner runner(db, dir);
            RunOptions o;
            o.analyst = "ann";
            o.demo = world;
            runner.run(o);
            VerdictOptions v;
            v.analyst = "bea";
            v.campaignId = 1;
            v.demo = world;
            const VerdictReport rep = applyVerdict(db, dir, v);
            ++rounds;
            proposedPerRound.push_back(static_cast<std::int64_t>(rep.cascade.proposedIds.size()));
            if (!rep.cascade.proposedIds.empty()) QCOMPARE(rep.cascade.nextRound, rounds);
            toApprove = rep.cascade.proposedIds;
        }
        QVERIFY2(rounds >= 3, qPrintable(QString::number(rounds)));
        QCOMPARE(proposedPerRound.back(), std::int64_t(0)); // it ends
        // Every message the propagation graph reaches from generation 0 got its requests.
        std::set<std::int64_t> reach(gen0.begin(), gen0.end());
        std::vector<std::int64_t> frontier = gen0;
        SqliteStmt next = db.prepare("SELECT to_message_id FROM propagation_edges WHERE from_message_id = ?1");
        while (!frontier.empty()) {
            const std::int64_t m = frontier.back();
            frontier.pop_back();
            next.bind(1, m);
            while (next.step())
                if (reach.insert(next.int64(0)).second) frontier.push_back(next.int64(0));
            next.reset();
        }
        std::set<std::int64_t> requested;
        for (const Request& r : store.requests()) requested.insert(r.caseMessageId);
        for (std::int64_t m : reach) QVERIFY2(requested.count(m), qPrintable(QStringLiteral("message %1 not reached").arg(m)));
        QVERIFY(reach.size() > gen0.size());
        // Rounds are numbered and linked to the retrieved copy they came from.
        QVERIFY(db.scalar("SELECT max(round) FROM recall_requests") >= 2);
        QCOMPARE(db.scalar("SELECT count(*) FROM recall_requests WHERE round > 0 AND parent_request_id IS NULL"), std::int64_t(0));
        QCOMPARE(db.scalar("SELECT count(*) FROM recall_requests r JOIN recall_requests p ON p.id = r.parent_request_id "
                           "WHERE p.cascaded_at IS NULL OR p.read_state = ''"),
                 std::int64_t(0));
        QCOMPARE(countState(store, State::Suspended), std::int64_t(0)); // all judged
    }

    // ------------------------------------------------------------ the command line
    void commandLine() {
        const QString path = freshDemo();
        const QString c = QStringLiteral("--case");
        // Usage errors: 2.
        QCOMPARE(cli({"recall", c, path, "--servers", "demo", "--approve-as", "ann"}).code, 2);          // no selection
        QCOMPARE(cli({"recall", c, path, "--campaign", "1", "--approve-as", "ann"}).code, 2);             // no servers
        QCOMPARE(cli({"recall", c, path, "--campaign", "1", "--servers", "demo"}).code, 2);               // no approver
        QCOMPARE(cli({"recall", c, path, "--campaign", "x", "--servers", "demo", "--approve-as", "a"}).code, 2);
        QCOMPARE(cli({"verdict", c, path, "--campaign", "1", "maybe", "--approve-as", "a"}).code, 2);
        QCOMPARE(cli({"verdict", c, path, "--campaign", "1", "virus"}).code, 2);
        // Bad input: 1.
        const QString bad = m_tmp.filePath(QStringLiteral("bad-servers.json"));
        {
            QFile f(bad);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(R"({"servers": [{"host": "mx1", "imap": {"url": "imaps:\/\/h", "admin_user": "a", "password": "hunter2"}}]})");
        }
        const CliResult b = cli({"recall", c, path, "--campaign", "1", "--servers", bad, "--approve-as", "ann"});
        QCOMPARE(b.code, 1);
        QVERIFY2(b.err.contains("secrets are not kept"), b.err.constData());
        QCOMPARE(cli({"recall", c, path, "--campaign", "77", "--servers", "demo", "--approve-as", "ann"}).code, 1);
        QCOMPARE(cli({"recall", c, path, "--message", "<nope@x>", "--servers", "demo", "--approve-as", "ann"}).code, 1);
        // Issue 16: a run in which no request reached its server exits 3 (and plans nothing
        // approved stays approved: the requests are unreachable, retried by the next run).
        const QString down = m_tmp.filePath(QStringLiteral("down-servers.json"));
        {
            QFile f(down);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(R"({"retry": {"attempts": 1, "backoff_ms": 0}, "servers": [{"host": "*", "demo": {"unreachable": true}}]})");
        }
        const QString downCase = freshDemo();
        const CliResult d = cli({"recall", c, downCase, "--campaign", "1", "--servers", down, "--approve-as", "ann", "--json"});
        QCOMPARE(d.code, 3);
        QVERIFY2(d.err.contains("reached its server"), d.err.constData());
        QVERIFY(QJsonDocument::fromJson(d.out).object().value("states").toObject().value("unreachable").toInt() > 0);
        // Plan only: nothing approved, nothing asked.
        const CliResult p = cli({"recall", c, path, "--campaign", "1", "--servers", "demo", "--plan-only", "--json"});
        QCOMPARE(p.code, 0);
        const QJsonObject pj = QJsonDocument::fromJson(p.out).object();
        QCOMPARE(pj.value("states").toObject().value("proposed").toInt(), pj.value("plan").toObject().value("recallable").toInt());
        QCOMPARE(pj.value("processed").toInt(), 0);
        // Recall.
        const CliResult r = cli({"recall", c, path, "--campaign", "1", "--servers", "demo", "--approve-as", "Ann Analyst", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject rj = QJsonDocument::fromJson(r.out).object();
        const QJsonObject states = rj.value("states").toObject();
        for (const char* k : {"suspended", "already_retrieved", "not_found", "unreachable", "not_recallable", "deleted", "released", "cascaded"})
            QVERIFY2(states.contains(QLatin1String(k)), k);
        QVERIFY(states.value("suspended").toInt() > 0);
        QVERIFY(states.value("already_retrieved").toInt() > 0);
        QVERIFY(states.value("not_recallable").toInt() > 0);
        QCOMPARE(rj.value("approved_by").toString(), QStringLiteral("Ann Analyst"));
        int perServer = 0;
        for (const QJsonValue& s : rj.value("servers").toObject()) perServer += s.toObject().value("suspended").toInt();
        QCOMPARE(perServer, states.value("suspended").toInt());
        QCOMPARE(rj.value("results").toArray().size(), rj.value("processed").toInt());
        // Verdict virus.
        const CliResult v = cli({"verdict", c, path, "--campaign", "1", "virus", "--servers", "demo", "--approve-as", "Bea", "--json"});
        QVERIFY2(v.code == 0, v.err.constData());
        const QJsonObject vj = QJsonDocument::fromJson(v.out).object();
        QCOMPARE(vj.value("deleted").toInt(), states.value("suspended").toInt());
        QCOMPARE(vj.value("states").toObject().value("already_retrieved").toInt(), states.value("already_retrieved").toInt());
        QCOMPARE(vj.value("states").toObject().value("cascaded").toInt(), 0);
        int followed = 0;
        for (const QJsonValue& cp : vj.value("copies").toArray())
            if (cp.toObject().value("status").toString() == QLatin1String("already read; cascade followed")) ++followed;
        QCOMPARE(followed, states.value("already_retrieved").toInt());
        QVERIFY(vj.value("cascade").toObject().contains("next_round"));
        // Audit.
        const CliResult a = cli({"audit", c, path});
        QCOMPARE(a.code, 0);
        QVERIFY(a.out.contains("\tBea\tdelete\t"));
        const QString csv = m_tmp.filePath(QStringLiteral("cli-audit.csv"));
        QCOMPARE(cli({"audit", c, path, "--csv", csv}).code, 0);
        QVERIFY(QFile(csv).size() > 1000);
        QCOMPARE(cli({"audit", c, m_tmp.filePath(QStringLiteral("none.mtcase"))}).code, 1);
    }
};

QTEST_GUILESS_MAIN(TestRecall)
#include "tst_recall.moc"
