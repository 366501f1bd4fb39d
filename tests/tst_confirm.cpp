// Send confirmation (issue 8, claims 25-34): the token, its signature and verification, the
// encrypted key file, enrolment, the wrapper's message handling and criteria, and the
// detection rule over a DetectionInput.
#include "model/CaseStore.h"
#include "model/ImportJob.h"
#include "model/detection/CaseDetection.h"
#include "model/confirm/Enrolment.h"
#include "model/confirm/KeyStore.h"
#include "model/confirm/OutgoingMessage.h"
#include "model/confirm/SendConfirm.h"
#include "model/detection/ConfirmRule.h"
#include "model/detection/Detector.h"

#include <QDateTime>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

using namespace mt;
using namespace mt::confirm;

namespace {

constexpr std::int64_t kT0 = 1'764'140'000; // UNIX seconds

struct Fixture {
    SigningKey alice = SigningKey::generate(Algorithm::Ed25519);
    SigningKey carol = SigningKey::generate(Algorithm::Ed25519);
    SigningKey hmac = SigningKey::generate(Algorithm::HmacSha256);
    KeyDirectory keys;
    Fixture() {
        keys.add("alice@corp.example", {Algorithm::Ed25519, alice.keyId(), alice.publicKey()});
        keys.add("carol@corp.example", {Algorithm::Ed25519, carol.keyId(), carol.publicKey()});
        keys.add("dave@corp.example", {Algorithm::HmacSha256, hmac.keyId(), hmac.raw()});
    }
};

Confirmation confirmation(const std::string& sender = "alice@corp.example") {
    Confirmation c;
    c.sender = sender;
    c.messageId = "20261126.abc@corp.example";
    c.recipients = {"Bob@Corp.Example", "erin@corp.example", "frank@partner.example"};
    c.time = kT0;
    c.criteria.recipients = true;
    return c;
}

struct LoggedCopy {
    std::string sender = "alice@corp.example";
    std::string messageId = "<20261126.abc@corp.example>";
    std::vector<std::string> rcpts{"bob@corp.example", "frank@partner.example", "erin@corp.example"};
    std::int64_t timeMs = (kT0 + 2) * 1000;
    Logged view() const {
        Logged l;
        l.sender = sender;
        l.messageId = messageId;
        for (const std::string& r : rcpts) l.recipients.push_back(r);
        l.timeMs = timeMs;
        return l;
    }
};

// Replaces field `name` of a header value by `value`.
std::string withField(const std::string& header, char name, const std::string& value) {
    std::string out;
    std::size_t pos = 0;
    while (pos <= header.size()) {
        std::size_t semi = header.find(';', pos);
        if (semi == std::string::npos) semi = header.size();
        std::string part = header.substr(pos, semi - pos);
        if (!part.empty() && part[0] == name) part = std::string(1, name) + "=" + value;
        out += (out.empty() ? "" : ";") + part;
        pos = semi + 1;
    }
    return out;
}

std::string fieldOf(const std::string& header, char name) {
    const std::string key = std::string(1, name) + "=";
    std::size_t p = header.find(key);
    if (p != 0) p = header.find(";" + key) + 1;
    const std::size_t e = header.find(';', p);
    return header.substr(p + 2, e == std::string::npos ? std::string::npos : e - p - 2);
}

// The same base64url text with one character changed (still well-formed).
std::string flipped(std::string s, std::size_t at = 0) {
    s[at] = s[at] == 'A' ? 'B' : 'A';
    return s;
}

} // namespace

class TestConfirm : public QObject {
    Q_OBJECT

private slots:
    void base64RoundTrip() {
        for (const std::string& s : {std::string(), std::string("f"), std::string("fo"), std::string("foo"), std::string("\xff\x00\x10", 3)}) {
            QCOMPARE(fromBase64url(base64url(s)).value(), s);
            QCOMPARE(fromBase64(base64(s)).value(), s);
        }
        QVERIFY(!fromBase64url("a+b/"));       // the standard alphabet is not base64url
        QVERIFY(!fromBase64url("AB"));         // non-canonical trailing bits ("AB" != "AA")
        QVERIFY(fromBase64url("AA").has_value());
    }

    void roundTripEd25519AndHmac() {
        Fixture f;
        Verifier v;
        const Token t = makeToken(confirmation(), f.alice);
        QCOMPARE(t.recipients, 3);
        QCOMPARE(t.criteria, std::string("n"));
        const std::string value = t.toHeaderValue();
        const CheckResult r = check(value, LoggedCopy().view(), f.keys, v, 300);
        QVERIFY2(r.verdict == Verdict::Valid, r.detail.c_str());
        QCOMPARE(r.skewSec, -2);

        const Token h = makeToken(confirmation("dave@corp.example"), f.hmac);
        LoggedCopy dave;
        dave.sender = "Dave@Corp.Example";
        QVERIFY2(check(h.toHeaderValue(), dave.view(), f.keys, v, 300).verdict == Verdict::Valid, "HMAC token");
        // The parsed token writes back the same text.
        QCOMPARE(Token::parse(value)->toHeaderValue(), value);
    }

    void headerFitsWhatPostfixLogs() {
        Fixture f;
        Confirmation c = confirmation();
        c.sender = std::string(60, 'x') + "@a-rather-long-department.corp.example";
        c.criteria = Criteria{true, true, true, true};
        c.recipients.assign(500, "someone@example.org");
        for (int i = 0; i < 500; ++i) c.recipients[static_cast<std::size_t>(i)] = "r" + std::to_string(i) + "@x.example";
        c.time = 9'999'999'999;
        const std::string line = std::string(kHeaderName) + ": " + makeToken(c, f.alice).toHeaderValue();
        QVERIFY2(line.size() <= kPostfixLogLimit, line.c_str());
        QVERIFY(line.find(" from ") == std::string::npos); // the importer cuts the logged header there
    }

    void tamperingWithEachField() {
        Fixture f;
        Verifier v;
        const std::string good = makeToken(confirmation(), f.alice).toHeaderValue();
        const LoggedCopy copy;
        const Logged logged = copy.view(); // views into `copy`
        // Fields the signature covers: any change fails it.
        struct Case {
            char field;
            std::string value;
        };
        const std::vector<Case> cases = {
            {'t', std::to_string(kT0 + 1)},
            {'n', "4"},
            {'c', "-"},
            {'m', flipped(fieldOf(good, 'm'), 3)},
            {'d', flipped(fieldOf(good, 'd'), 5)},
            {'s', flipped(fieldOf(good, 's'), 7)},
        };
        for (const Case& c : cases) {
            const std::string bad = withField(good, c.field, c.value);
            QVERIFY(bad != good);
            const CheckResult r = check(bad, logged, f.keys, v, 300);
            QVERIFY2(r.verdict == Verdict::BadSignature, (std::string(1, c.field) + ": " + verdictName(r.verdict) + " " + r.detail).c_str());
        }
        // The key id: to one nobody holds, or to another enrolled user's.
        QCOMPARE(check(withField(good, 'k', flipped(f.alice.keyId())), logged, f.keys, v, 300).verdict, Verdict::UnknownKey);
        QCOMPARE(check(withField(good, 'k', f.carol.keyId()), logged, f.keys, v, 300).verdict, Verdict::WrongSender);
        // The version, and broken syntax.
        QCOMPARE(check(withField(good, 'v', "2"), logged, f.keys, v, 300).verdict, Verdict::Malformed);
        { const CheckResult half = check(good.substr(0, good.size() / 2), logged, f.keys, v, 300);
          QVERIFY2(half.verdict == Verdict::Malformed, (good + " -> " + verdictName(half.verdict) + " " + half.detail).c_str()); }
        QCOMPARE(check(good + ";s=AAAA", logged, f.keys, v, 300).verdict, Verdict::Malformed); // a field twice
        QCOMPARE(check(good.substr(0, good.size() - 8), logged, f.keys, v, 300).verdict, Verdict::Malformed); // signature cut short
        QCOMPARE(check("garbage", logged, f.keys, v, 300).verdict, Verdict::Malformed);
    }

    void logComparison() {
        Fixture f;
        Verifier v;
        const std::string good = makeToken(confirmation(), f.alice).toHeaderValue();
        {
            LoggedCopy l;
            l.messageId = "<other@corp.example>";
            QCOMPARE(check(good, l.view(), f.keys, v, 300).verdict, Verdict::MessageIdMismatch);
        }
        {
            LoggedCopy l;
            l.rcpts.push_back("mallory@evil.example");
            const CheckResult r = check(good, l.view(), f.keys, v, 300);
            QCOMPARE(r.verdict, Verdict::RecipientCountMismatch);
            QVERIFY(r.detail.find("3") != std::string::npos && r.detail.find("4") != std::string::npos);
        }
        {
            LoggedCopy l;
            l.rcpts[1] = "mallory@evil.example";
            QCOMPARE(check(good, l.view(), f.keys, v, 300).verdict, Verdict::RecipientsMismatch);
        }
        {
            LoggedCopy l; // the same recipient twice in the log (two copies) counts once
            l.rcpts.push_back("BOB@corp.example");
            QCOMPARE(check(good, l.view(), f.keys, v, 300).verdict, Verdict::Valid);
        }
        {
            LoggedCopy l; // another enrolled sender: the token names alice's key
            l.sender = "carol@corp.example";
            QCOMPARE(check(good, l.view(), f.keys, v, 300).verdict, Verdict::WrongSender);
        }
        {
            LoggedCopy l; // a sender nobody enrolled, with alice's token
            l.sender = "mallory@corp.example";
            QCOMPARE(check(good, l.view(), f.keys, v, 300).verdict, Verdict::WrongSender);
        }
    }

    void clockSkew() {
        Fixture f;
        Verifier v;
        const std::string good = makeToken(confirmation(), f.alice).toHeaderValue();
        LoggedCopy l;
        l.timeMs = (kT0 + 300) * 1000;
        QCOMPARE(check(good, l.view(), f.keys, v, 300).verdict, Verdict::Valid); // at the limit
        l.timeMs = (kT0 + 301) * 1000;
        CheckResult r = check(good, l.view(), f.keys, v, 300);
        QCOMPARE(r.verdict, Verdict::ClockSkew);
        QCOMPARE(r.skewSec, -301);
        l.timeMs = (kT0 - 301) * 1000; // the token from the future
        r = check(good, l.view(), f.keys, v, 300);
        QCOMPARE(r.verdict, Verdict::ClockSkew);
        QCOMPARE(r.skewSec, 301);
    }

    void missingAndWrongKey() {
        Fixture f;
        Verifier v;
        QCOMPARE(check("", LoggedCopy().view(), f.keys, v, 300).verdict, Verdict::Missing);
        QCOMPARE(check("   ", LoggedCopy().view(), f.keys, v, 300).verdict, Verdict::Missing);
        // Alice signs with a key that is not her enrolled one (a fresh key: unknown id).
        const SigningKey other = SigningKey::generate(Algorithm::Ed25519);
        QCOMPARE(check(makeToken(confirmation(), other).toHeaderValue(), LoggedCopy().view(), f.keys, v, 300).verdict, Verdict::UnknownKey);
        // A directory where alice's enrolled public key is another key but the id is hers: the
        // signature itself fails.
        KeyDirectory forged;
        forged.add("alice@corp.example", {Algorithm::Ed25519, f.alice.keyId(), other.publicKey()});
        QCOMPARE(check(makeToken(confirmation(), f.alice).toHeaderValue(), LoggedCopy().view(), forged, v, 300).verdict, Verdict::BadSignature);
        // HMAC with the wrong secret under the enrolled id; and with no secret at all.
        KeyDirectory h;
        h.add("dave@corp.example", {Algorithm::HmacSha256, f.hmac.keyId(), std::string(32, 'x')});
        LoggedCopy dave;
        dave.sender = "dave@corp.example";
        const std::string dt = makeToken(confirmation("dave@corp.example"), f.hmac).toHeaderValue();
        QCOMPARE(check(dt, dave.view(), h, v, 300).verdict, Verdict::BadSignature);
        KeyDirectory none;
        none.add("dave@corp.example", {Algorithm::HmacSha256, f.hmac.keyId(), std::string()});
        QCOMPARE(check(dt, dave.view(), none, v, 300).verdict, Verdict::BadSignature);
    }

    void replayCache() {
        ReplayCache c(60'000);
        QVERIFY(!c.observe("sig1", 1000, 1));
        QVERIFY(!c.observe("sig1", 2000, 1)); // the same message again (another copy): no replay
        const auto seen = c.observe("sig1", 30'000, 2);
        QVERIFY(seen.has_value());
        QCOMPARE(seen->message, 1);
        QCOMPARE(seen->timeMs, 1000);
        QVERIFY(!c.observe("sig2", 61'001, 3)); // sig1 expires from here on
        QVERIFY(!c.observe("sig1", 61'002, 4));
        QCOMPARE(c.size(), std::size_t(2));
    }

    void keyFile() {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("cfg/key.json")).toStdString();
        const SigningKey key = SigningKey::generate(Algorithm::Ed25519);
        std::string error;
        const KdfParams fast{1u << 12, 8, 1};
        QVERIFY2(KeyStore::save(path, "Alice@Corp.Example", key, "correct horse", &error, fast), error.c_str());
        struct stat st{};
        QCOMPARE(::stat(path.c_str(), &st), 0);
        QCOMPARE(st.st_mode & 0777, 0600u);
        QFile raw(QString::fromStdString(path));
        QVERIFY(raw.open(QIODevice::ReadOnly));
        const QByteArray bytes = raw.readAll();
        raw.close();
        QVERIFY(!bytes.contains(QByteArray::fromStdString(base64(key.raw())))); // never in clear
        KeyFileInfo info;
        QVERIFY(KeyStore::info(path, info, &error));
        QCOMPARE(info.user, std::string("alice@corp.example"));
        QCOMPARE(info.keyId, key.keyId());
        SigningKey back;
        bool wrong = false;
        QVERIFY(!KeyStore::unlock(path, "wrong horse", back, nullptr, &error, &wrong));
        QVERIFY(wrong);
        QVERIFY(!back.valid());
        QVERIFY2(KeyStore::unlock(path, "correct horse", back, nullptr, &error, &wrong), error.c_str());
        QCOMPARE(back.raw(), key.raw());
        QCOMPARE(back.publicKey(), key.publicKey());
        // The file's statements are bound to the ciphertext: another user fails like a wrong password.
        QByteArray swapped = bytes;
        swapped.replace("alice@corp.example", "carol@corp.example");
        QVERIFY(raw.open(QIODevice::WriteOnly | QIODevice::Truncate));
        raw.write(swapped);
        raw.close();
        QVERIFY(!KeyStore::unlock(path, "correct horse", back, nullptr, &error, &wrong));
        // Readable by others: refused.
        QVERIFY(KeyStore::save(path, "alice@corp.example", key, "correct horse", &error, fast));
        ::chmod(path.c_str(), 0644);
        QVERIFY(!KeyStore::unlock(path, "correct horse", back, nullptr, &error));
        QVERIFY(error.find("chmod 600") != std::string::npos);
        QVERIFY(!KeyStore::save(path, "alice@corp.example", key, "", &error, fast)); // no empty password
        QCOMPARE(KeyStore::enrolmentLine(info), "alice@corp.example,ed25519," + key.keyId() + "," + base64(key.publicKey()));
    }

    void enrolmentFiles() {
        const SigningKey a = SigningKey::generate(Algorithm::Ed25519);
        const SigningKey h = SigningKey::generate(Algorithm::HmacSha256);
        const std::string csv = "user,algorithm,key_id,public_key\r\n"
                                "Alice@Corp.Example,ed25519," + a.keyId() + "," + base64(a.publicKey()) + "\r\n"
                                "dave@corp.example,hmac-sha256," + h.keyId() + ",\r\n";
        EnrolmentFile f = parseEnrolmentBytes(csv, "e.csv");
        QVERIFY(f.errors.empty());
        QCOMPARE(f.users.size(), std::size_t(2));
        QCOMPARE(f.users[0].user, std::string("alice@corp.example"));
        QCOMPARE(f.users[0].publicKey, a.publicKey());
        QCOMPARE(f.users[1].algorithm, Algorithm::HmacSha256);
        // JSON, key id derived when absent.
        const std::string json = "{\"users\":[{\"user\":\"alice@corp.example\",\"public_key\":\"" + base64(a.publicKey()) + "\"}]}";
        f = parseEnrolmentBytes(json, "e.json");
        QVERIFY(f.errors.empty());
        QCOMPARE(f.users.at(0).keyId, a.keyId());
        // Bad rows, each with its place and reason.
        f = parseEnrolmentBytes("user,public_key\nnot-an-address," + base64(a.publicKey()) + "\nbob@x.example,AAAA\n", "bad.csv");
        QCOMPARE(f.errors.size(), std::size_t(2));
        QVERIFY(f.errors[0].rfind("bad.csv:2:", 0) == 0);
        QVERIFY(f.errors[1].find("32 bytes") != std::string::npos);
        f = parseEnrolmentBytes("user,algorithm,key_id,public_key\nalice@x.example,ed25519,AAAAAAAA," + base64(a.publicKey()) + "\n", "k.csv");
        QCOMPARE(f.errors.size(), std::size_t(1)); // the key id contradicts the key
        QVERIFY(!parseEnrolmentBytes("hello world\n", "x").errors.empty());
        QVERIFY(!parseEnrolmentBytes("{broken", "x").errors.empty());
        QVERIFY(!parseEnrolmentBytes("", "x").errors.empty());
    }

    void enrolmentInTheCase() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("c.mtcase"));
        const SigningKey a = SigningKey::generate(Algorithm::Ed25519);
        const SigningKey a2 = SigningKey::generate(Algorithm::Ed25519);
        {
            CaseStore s;
            s.open(path);
            QCOMPARE(s.schemaVersion(), CaseStore::kSchemaVersion);
            QCOMPARE(enrolmentChangedAt(s.db()), std::int64_t(0));
            EnrolledUser u{"alice@corp.example", Algorithm::Ed25519, a.keyId(), a.publicKey()};
            QCOMPARE(storeEnrolment(s.db(), {u}, "e.csv"), 1);
            u.keyId = a2.keyId();
            u.publicKey = a2.publicKey();
            storeEnrolment(s.db(), {u}, "e2.csv"); // a new key replaces the old one
            QVERIFY(enrolmentChangedAt(s.db()) > 0);
        }
        {
            CaseStore s;
            s.open(path);
            const auto users = loadEnrolment(s.db());
            QCOMPARE(users.size(), std::size_t(1));
            QCOMPARE(users[0].keyId, a2.keyId());
            QCOMPARE(users[0].publicKey, a2.publicKey());
        }
        // A version 3 case gains the table.
        {
            CaseStore s;
            s.open(path);
            s.db().exec("DROP TABLE enrolment; PRAGMA user_version = 3");
        }
        CaseStore s;
        s.open(path);
        QCOMPARE(s.schemaVersion(), CaseStore::kSchemaVersion);
        QCOMPARE(s.db().scalar("SELECT count(*) FROM enrolment"), std::int64_t(0));
    }

    void outgoingMessage() {
        std::string raw =
            "From: Alice <alice@corp.example>\r\n"
            "To: \"Smith, Bob\" <Bob@Corp.Example>, erin@corp.example (Erin)\r\n"
            "Cc: undisclosed-recipients:;\r\n"
            "Bcc: <frank@partner.example>\r\n"
            "X-Send-Confirm: v=1;forged\r\n"
            "Subject: invoice\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed;\r\n boundary=\"b1\"\r\n"
            "\r\n"
            "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
            "--b1\r\nContent-Type: application/octet-stream;\r\n name=\"invoice.pdf.exe\"\r\n"
            "Content-Disposition: attachment;\r\n filename=\"invoice.pdf.exe\"\r\n\r\nAAAA\r\n"
            "--b1\r\nContent-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.vbs\r\n\r\nBBBB\r\n"
            "--b1--\r\n";
        OutgoingMessage m(raw);
        QCOMPARE(m.headerRecipients(), (std::vector<std::string>{"bob@corp.example", "erin@corp.example", "frank@partner.example"}));
        QCOMPARE(m.attachmentNames(), (std::vector<std::string>{"invoice.pdf.exe", "r\xC3\xA9sum\xC3\xA9.vbs"}));
        QVERIFY(m.messageId().empty());
        const std::string id = m.ensureMessageId("corp.example");
        QVERIFY(id.size() > 20 && id.find("@corp.example") != std::string::npos);
        QCOMPARE(m.ensureMessageId("corp.example"), id); // kept once there
        m.setConfirmHeader("v=1;real");
        QCOMPARE(m.header("X-Send-Confirm"), std::string("v=1;real"));
        QVERIFY(m.bytes().find("forged") == std::string::npos);
        QVERIFY(m.bytes().rfind("X-Send-Confirm: v=1;real\r\n", 0) == 0);
        QVERIFY(m.bytes().find("\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n") != std::string::npos); // body intact
        QCOMPARE(m.header("subject"), std::string("invoice"));
    }

    void criteria() {
        SendPolicy p;
        p.riskyExtensions = {"exe", "vbs"};
        std::string why;
        const std::int64_t now = kT0;
        std::vector<std::int64_t> sends{now - 60, now - 120, now - 180, now - 240}; // 4 earlier + this one = 5: not more than 5
        QVERIFY(!evaluateCriteria(p, now, sends, 10, {"a.pdf"}, &why).any());
        sends.push_back(now - 599);
        Criteria c = evaluateCriteria(p, now, sends, 10, {"a.pdf"}, &why);
        QVERIFY(c.rate && !c.recipients && !c.attachment);
        QVERIFY(why.find("6 messages") != std::string::npos);
        sends.back() = now - 600; // out of the 10-minute window
        QVERIFY(!evaluateCriteria(p, now, sends, 10, {}, &why).any());
        c = evaluateCriteria(p, now, {}, 11, {"LOVE-LETTER.TXT.vbs"}, &why);
        QVERIFY(c.recipients && c.attachment && !c.rate);
        QCOMPARE(c.code(), std::string("an"));
        p.always = true;
        QCOMPARE(evaluateCriteria(p, now, {}, 1, {}, &why).code(), std::string("x"));
        QVERIFY(riskyAttachment("x.EXE. ", {"exe"}));
        QVERIFY(!riskyAttachment("exe", {"exe"}));
    }

    void rulesJson() {
        det::RuleSet r = det::RuleSet::defaults();
        QVERIFY(r.confirm.enabled);
        QCOMPARE(r.confirm.weight, r.decision.threshold); // a failed confirmation alone flags
        r.confirm.maxSkewSec = 42;
        r.confirm.replayWindowSec = 3600;
        r.confirm.requireAlways = true;
        r.confirm.weight = 1.25;
        det::RuleSet back;
        QString error;
        QVERIFY2(det::RuleSet::fromJson(r.toJsonBytes(), back, &error), qPrintable(error));
        QCOMPARE(back.confirm.maxSkewSec, 42);
        QCOMPARE(back.confirm.replayWindowSec, 3600);
        QVERIFY(back.confirm.requireAlways);
        QCOMPARE(back.confirm.weight, 1.25);
        QCOMPARE(back.toJsonBytes(), r.toJsonBytes());
        // A rule set written before this section keeps the defaults.
        QJsonObject o = det::RuleSet::defaults().toJson();
        o.remove(QStringLiteral("confirm"));
        QVERIFY(det::RuleSet::fromJson(QJsonDocument(o).toJson(), back, &error));
        QCOMPARE(back.toJsonBytes(), det::RuleSet::defaults().toJsonBytes());
        o.insert(QStringLiteral("confirm"), QJsonObject{{"replay_window", 0}});
        QVERIFY(!det::RuleSet::fromJson(QJsonDocument(o).toJson(), back, &error));
    }

    void detectionRule() {
        Fixture f;
        det::DetectionInput in;
        in.addUser("alice@corp.example", "Sales");
        in.addUser("bob@corp.example", "Sales");
        in.addUser("erin@corp.example", "Sales");
        const std::int64_t t0 = kT0 * 1000;
        auto spec = [&](std::int64_t id, std::int64_t offsetSec, const std::string& sender, const std::string& mid, int nrcpt) {
            det::MessageSpec s;
            s.id = id;
            s.time = t0 + offsetSec * 1000;
            s.sender = sender;
            s.saslUser = sender;
            s.messageId = mid;
            s.server = "mx1";
            s.size = 3000;
            s.subject = "note " + std::to_string(id);
            for (int i = 0; i < nrcpt; ++i) s.recipients.push_back("r" + std::to_string(i) + "@corp.example");
            return s;
        };
        auto signFor = [&](const det::MessageSpec& s, const SigningKey& k, std::int64_t atSec) {
            Confirmation c;
            c.sender = s.sender;
            c.messageId = s.messageId;
            c.recipients = s.recipients;
            c.time = atSec;
            c.criteria.recipients = true;
            return makeToken(c, k).toHeaderValue();
        };
        // 1: alice, 12 recipients, valid token.
        det::MessageSpec m1 = spec(1, 0, "alice@corp.example", "m1@corp.example", 12);
        m1.confirmToken = signFor(m1, f.alice, kT0);
        // 2: alice, 12 recipients, no token -> missing.
        det::MessageSpec m2 = spec(2, 60, "alice@corp.example", "m2@corp.example", 12);
        // 3: alice, 1 recipient, no token, nothing asks for one -> not judged.
        det::MessageSpec m3 = spec(3, 120, "alice@corp.example", "m3@corp.example", 1);
        // 4: bob is not enrolled: never judged, even without a token on 12 recipients.
        det::MessageSpec m4 = spec(4, 130, "bob@corp.example", "m4@corp.example", 12);
        // 5: message 1's token on another message of alice with the same recipients -> replayed
        //    (the Message-ID check would fail too: replay is the stronger statement).
        det::MessageSpec m5 = spec(5, 200, "alice@corp.example", "m1@corp.example", 12);
        m5.confirmToken = m1.confirmToken;
        // 6: token with a tampered recipient count -> bad signature.
        det::MessageSpec m6 = spec(6, 240, "alice@corp.example", "m6@corp.example", 12);
        m6.confirmToken = withField(signFor(m6, f.alice, kT0 + 240), 'n', "13");
        // 7: signed 10 minutes before the log saw it -> clock skew.
        det::MessageSpec m7 = spec(7, 1300, "alice@corp.example", "m7@corp.example", 12);
        m7.confirmToken = signFor(m7, f.alice, kT0 + 700);
        // 8: risky attachment, no token -> missing.
        det::MessageSpec m8 = spec(8, 1400, "alice@corp.example", "m8@corp.example", 1);
        m8.attachments = {"LOVE-LETTER-FOR-YOU.TXT.vbs"};
        // 9-14: six one-recipient messages in 10 minutes without token: the sixth is missing.
        std::vector<det::MessageSpec> burst;
        for (int i = 0; i < 6; ++i) burst.push_back(spec(9 + i, 3000 + i * 60, "alice@corp.example", "b" + std::to_string(i) + "@corp.example", 1));
        // 15: carol's token on alice's message -> wrong sender.
        det::MessageSpec m15 = spec(15, 5000, "alice@corp.example", "m15@corp.example", 12);
        m15.confirmToken = signFor(m15, f.carol, kT0 + 5000);
        for (const auto* s : {&m1, &m2, &m3, &m4, &m5, &m6, &m7, &m8}) in.add(*s);
        for (const auto& s : burst) in.add(s);
        in.add(m15);
        QVERIFY(in.finish());

        det::RuleSet rules = det::RuleSet::defaults();
        det::Detector d(rules, det::Detector::Options{true});
        std::vector<std::string> risky = rules.type.executable;
        risky.insert(risky.end(), rules.type.script.begin(), rules.type.script.end());
        auto rule = std::make_unique<det::ConfirmRule>(rules.confirm, risky, f.keys);
        det::ConfirmRule* rp = rule.get();
        d.addRule(std::move(rule));
        d.run(in);

        std::map<std::int64_t, std::string> confirmHits;
        for (const det::Hit& h : d.hits())
            if (h.rule == det::kRuleConfirm) {
                QVERIFY2(!confirmHits.count(in.messages[h.message].id), "one confirm hit per message");
                confirmHits[in.messages[h.message].id] = h.detail;
                QCOMPARE(h.weight, rules.confirm.weight);
                QVERIFY(d.flagged(h.message)); // weight 3 = the threshold: flagged on its own
            }
        auto verdictOf = [&](std::int64_t id) {
            const auto it = confirmHits.find(id);
            return it == confirmHits.end() ? std::string("none") : it->second.substr(0, it->second.find(':'));
        };
        QCOMPARE(verdictOf(1), std::string("none"));
        QCOMPARE(verdictOf(2), std::string("missing"));
        QVERIFY(confirmHits[2].find("12 recipients") != std::string::npos);
        QCOMPARE(verdictOf(3), std::string("none"));
        QCOMPARE(verdictOf(4), std::string("none"));
        QCOMPARE(verdictOf(5), std::string("replayed"));
        QVERIFY2(confirmHits[5].find("m1@corp.example") != std::string::npos, confirmHits[5].c_str());
        QCOMPARE(verdictOf(6), std::string("bad-signature"));
        QCOMPARE(verdictOf(7), std::string("clock-skew"));
        QCOMPARE(verdictOf(8), std::string("missing"));
        QVERIFY(confirmHits[8].find("LOVE-LETTER") != std::string::npos);
        for (int i = 0; i < 5; ++i) QCOMPARE(verdictOf(9 + i), std::string("none"));
        QCOMPARE(verdictOf(14), std::string("missing"));
        QVERIFY2(confirmHits[14].find("6 messages") != std::string::npos, confirmHits[14].c_str());
        QCOMPARE(verdictOf(15), std::string("wrong-sender"));
        QVERIFY(!d.flagged(0)); // the confirmed message is not flagged by anything
        QCOMPARE(rp->count(Verdict::Missing), std::int64_t(3));
        QCOMPARE(rp->signaturesChecked(), std::int64_t(5));

        // Replay memory survives an incremental run: history before `until` is only observed.
        det::Detector d2(rules, det::Detector::Options{true});
        d2.addRule(std::make_unique<det::ConfirmRule>(rules.confirm, risky, f.keys));
        d2.setReplay(t0 + 150 * 1000, {}, t0);
        d2.run(in);
        bool replayed = false;
        for (const det::Hit& h : d2.hits())
            if (h.rule == det::kRuleConfirm && in.messages[h.message].id == 5) replayed = h.detail.rfind("replayed", 0) == 0;
        QVERIFY(replayed);
        for (const det::Hit& h : d2.hits()) QVERIFY(in.messages[h.message].time >= t0 + 150 * 1000);
    }

    // Issue 15 item 19: the token counts and signs the recipients the user confirmed. Postfix
    // then expands an alias (virtual_alias_maps: orig_to) and adds its journal copy
    // (always_bcc, to every message). The case is judged by the recipients as submitted, so
    // neither is a recipient-count mismatch; a recipient really added still is.
    void recipientsAsSubmitted() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("c.mtcase"));
        const SigningKey a = SigningKey::generate(Algorithm::Ed25519);
        std::string log;
        int seq = 0;
        auto stamp = [](std::int64_t sec) {
            return QDateTime::fromSecsSinceEpoch(sec, Qt::UTC).toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.000000+00:00")).toStdString();
        };
        // One message: deliveries as (to, orig_to); the journal copy is appended to each.
        auto message = [&](std::int64_t sec, const std::string& sender, const std::string& mid, const std::string& token,
                           std::vector<std::pair<std::string, std::string>> to) {
            char qid[16];
            std::snprintf(qid, sizeof qid, "4A%08X", ++seq);
            const std::string t = stamp(sec), q = qid;
            to.push_back({"journal@corp.example", ""});
            log += t + " mx1 postfix/submission/smtpd[100]: " + q + ": client=ws.corp.example[10.0.0.5], sasl_method=PLAIN, sasl_username=" + sender + "\n";
            log += t + " mx1 postfix/cleanup[101]: " + q + ": message-id=<" + mid + ">\n";
            if (!token.empty())
                log += t + " mx1 postfix/cleanup[101]: " + q + ": warning: header X-Send-Confirm: " + token
                       + " from ws.corp.example[10.0.0.5]; from=<" + sender + "> to=<x@corp.example> proto=ESMTP helo=<ws>\n";
            log += t + " mx1 postfix/qmgr[102]: " + q + ": from=<" + sender + ">, size=2000, nrcpt=" + std::to_string(to.size()) + " (queue active)\n";
            for (const auto& [rcpt, orig] : to)
                log += t + " mx1 postfix/local[103]: " + q + ": to=<" + rcpt + ">" + (orig.empty() ? "" : ", orig_to=<" + orig + ">")
                       + ", relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)\n";
            log += t + " mx1 postfix/qmgr[102]: " + q + ": removed\n";
        };
        auto tokenFor = [&](const std::string& mid, std::vector<std::string> rcpts, std::int64_t sec) {
            Confirmation c;
            c.sender = "alice@corp.example";
            c.messageId = mid;
            c.recipients = std::move(rcpts);
            c.time = sec;
            c.criteria.recipients = true;
            return makeToken(c, a).toHeaderValue();
        };
        const std::vector<std::string> four{"bob@corp.example", "erin@corp.example", "team@corp.example", "frank@corp.example"};
        // 1: to an alias that expands to three people: 4 confirmed, 6 delivered (+ journal).
        message(kT0, "alice@corp.example", "alias1@corp.example", tokenFor("alias1@corp.example", four, kT0),
                {{"bob@corp.example", ""}, {"erin@corp.example", ""}, {"carl@corp.example", "team@corp.example"},
                 {"dina@corp.example", "team@corp.example"}, {"ed@corp.example", "team@corp.example"}, {"frank@corp.example", ""}});
        // 2: plain, 4 confirmed, 4 delivered (+ journal).
        message(kT0 + 60, "alice@corp.example", "plain2@corp.example", tokenFor("plain2@corp.example", four, kT0 + 60),
                {{"bob@corp.example", ""}, {"erin@corp.example", ""}, {"team@corp.example", ""}, {"frank@corp.example", ""}});
        // 3: confirmed for 2, a third recipient added on the way: still a mismatch.
        message(kT0 + 120, "alice@corp.example", "added3@corp.example",
                tokenFor("added3@corp.example", {"bob@corp.example", "erin@corp.example"}, kT0 + 120),
                {{"bob@corp.example", ""}, {"erin@corp.example", ""}, {"mallory@evil.example", ""}});
        // Everyday traffic of others, journaled too (always_bcc copies every message).
        for (int i = 0; i < 24; ++i)
            message(kT0 + 200 + i * 30, "bob@corp.example", "daily" + std::to_string(i) + "@corp.example", "",
                    {{"r" + std::to_string(i) + "@corp.example", ""}});
        const QString logPath = dir.filePath(QStringLiteral("mail.log"));
        {
            QFile f(logPath);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray::fromStdString(log));
        }
        CaseStore s;
        s.open(path);
        storeEnrolment(s.db(), {EnrolledUser{"alice@corp.example", Algorithm::Ed25519, a.keyId(), a.publicKey()}}, "e.csv");
        const ImportReport r = ImportJob(s).importLogs({logPath});
        QVERIFY2(r.files.size() == 1 && r.files[0].ok, r.files.empty() ? "" : r.files[0].error.c_str());
        det::CaseDetection::run(s, false);
        std::map<std::string, std::string> confirmHits;
        auto st = s.db().prepare("SELECT m.message_id, h.detail FROM hits h JOIN messages m ON m.id = h.message_id WHERE h.rule_id = ?1");
        st.bind(1, std::string_view(det::kRuleConfirm));
        while (st.step()) confirmHits[st.text(0)] = st.text(1);
        QVERIFY2(!confirmHits.count("alias1@corp.example"), confirmHits["alias1@corp.example"].c_str());
        QVERIFY2(!confirmHits.count("plain2@corp.example"), confirmHits["plain2@corp.example"].c_str());
        QVERIFY(confirmHits.count("added3@corp.example"));
        QVERIFY2(confirmHits["added3@corp.example"].rfind("recipient-count-mismatch", 0) == 0, confirmHits["added3@corp.example"].c_str());
        QVERIFY2(confirmHits["added3@corp.example"].find("confirmed for 2 recipient(s), logged with 3") != std::string::npos,
                 confirmHits["added3@corp.example"].c_str());
    }

    void cliEnrol() {
        QTemporaryDir dir;
        const QString c = dir.filePath(QStringLiteral("e.mtcase"));
        const SigningKey a = SigningKey::generate(Algorithm::Ed25519);
        QFile good(dir.filePath(QStringLiteral("good.csv")));
        QVERIFY(good.open(QIODevice::WriteOnly));
        good.write(QByteArray::fromStdString("user,public_key\nalice@corp.example," + base64(a.publicKey()) + "\n"));
        good.close();
        QFile bad(dir.filePath(QStringLiteral("bad.csv")));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write(QByteArray::fromStdString("user,public_key\ncarol@corp.example," + base64(a.publicKey()) + "\nnobody,xx\n"));
        bad.close();
        QProcess p;
        p.start(QStringLiteral(MT_CLI_PATH), {QStringLiteral("enrol"), QStringLiteral("--case"), c, QStringLiteral("--json"), good.fileName()});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const QJsonObject o = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        QCOMPARE(o.value(QStringLiteral("enrolled")).toInt(), 1);
        QCOMPARE(o.value(QStringLiteral("users")).toArray().at(0).toObject().value(QStringLiteral("key_id")).toString(),
                 QString::fromStdString(a.keyId()));
        p.start(QStringLiteral(MT_CLI_PATH), {QStringLiteral("enrol"), QStringLiteral("--case"), c, bad.fileName()});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        QVERIFY(p.readAllStandardError().contains("bad.csv:3:"));
        CaseStore s;
        s.open(c);
        QCOMPARE(loadEnrolment(s.db()).size(), std::size_t(1)); // nothing of the bad file
        p.start(QStringLiteral(MT_CLI_PATH), {QStringLiteral("enrol")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 2);
    }
};

QTEST_GUILESS_MAIN(TestConfirm)
#include "tst_confirm.moc"
