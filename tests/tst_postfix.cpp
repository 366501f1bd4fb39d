// The Postfix parser: syslog framing, per-daemon lines, the assembler's copies, and the
// public corpus (support/PublicData.h) in postfix/.
#include "support/PublicData.h"
#include "importers/LineReader.h"
#include "importers/PostfixLog.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using namespace mt;

namespace {

struct Parsed {
    std::vector<CopyRecord> copies; // completed, then the still-open ones
    std::vector<RejectRecord> rejects;
    PostfixStats stats;
    std::vector<std::string> reasons;
};

Parsed parseFiles(const QStringList& paths, int year = 2026) {
    Parsed p;
    PostfixAssembler a;
    a.framing().setReference(year, 12, true);
    for (const QString& path : paths) {
        LineReader r(path);
        if (!r.open()) qFatal("cannot open %s: %s", qPrintable(path), r.error().c_str());
        std::string_view line;
        std::string why;
        while (r.next(line)) {
            ++p.stats.lines;
            switch (a.feed(line, why)) {
            case PostfixAssembler::Result::Accepted: ++p.stats.accepted; break;
            case PostfixAssembler::Result::Skipped: ++p.stats.skipped; break;
            case PostfixAssembler::Result::Rejected: ++p.stats.rejected; p.reasons.push_back(why); break;
            }
        }
    }
    p.copies = std::move(a.completed());
    a.snapshotOpen(p.copies);
    p.rejects = std::move(a.rejects());
    return p;
}

QString lightmeter(const char* name) {
    return mt::test::publicData(QStringLiteral("postfix/lightmeter/individual_files/")) + QLatin1String(name);
}

const CopyRecord* findCopy(const Parsed& p, const std::string& qid, int nth = 0) {
    for (const auto& c : p.copies)
        if (c.queueId == qid && nth-- == 0) return &c;
    return nullptr;
}

const DeliveryRecord* findDelivery(const CopyRecord& c, const std::string& rcpt) {
    for (const auto& d : c.deliveries)
        if (d.recipient == rcpt) return &d;
    return nullptr;
}

} // namespace

class TestPostfix : public QObject {
    Q_OBJECT
private slots:
    void framingRfc3339() {
        SyslogFraming f;
        f.setReference(2026, 12, true);
        SyslogLine sl;
        const char* why = nullptr;
        QVERIFY(f.parse("2026-11-22T10:00:01.250000+01:00 mx1 postfix/smtpd[12]: connect from x[1.2.3.4]", sl, why));
        QCOMPARE(sl.time, civilToMs(2026, 11, 22, 9, 0, 1, 250));
        QCOMPARE(std::string(sl.host), std::string("mx1"));
        QCOMPARE(std::string(sl.program), std::string("postfix/smtpd"));
        QCOMPARE(std::string(sl.message), std::string("connect from x[1.2.3.4]"));
        QVERIFY(f.parse("2026-11-22T09:00:01Z mx1 postfix/qmgr[1]: x", sl, why));
        QCOMPARE(sl.time, civilToMs(2026, 11, 22, 9, 0, 1, 0));
    }
    void framingClassicAndMaillog() {
        SyslogFraming f;
        f.setReference(2025, 12, true);
        SyslogLine sl;
        const char* why = nullptr;
        QVERIFY(f.parse("Mar  9 04:27:02 lightmetermail postfix/smtpd[1966]: connect from unknown[11.11.11.11]", sl, why));
        QCOMPARE(sl.time, civilToMs(2025, 3, 9, 4, 27, 2, 0));
        // Postfix's own maillog_file (postlogd) writes microseconds after the classic stamp.
        QVERIFY(f.parse("Nov 26 04:10:01.123456 mx1 postfix/qmgr[5]: 1234567ABC: removed", sl, why));
        QCOMPARE(sl.time, civilToMs(2025, 11, 26, 4, 10, 1, 123));
        // December to January rolls the year over.
        QVERIFY(f.parse("Dec 31 23:59:59 mx1 postfix/qmgr[5]: x", sl, why));
        QVERIFY(f.parse("Jan  1 00:00:01 mx1 postfix/qmgr[5]: x", sl, why));
        QCOMPARE(sl.time, civilToMs(2026, 1, 1, 0, 0, 1, 0));
        // Without a forced year, months after the file's month belong to the year before.
        SyslogFraming g;
        g.setReference(2026, 2, false);
        QVERIFY(g.parse("Dec 30 10:00:00 mx1 postfix/qmgr[5]: x", sl, why));
        QCOMPARE(sl.time, civilToMs(2025, 12, 30, 10, 0, 0, 0));
    }
    void framingTimeZone() {
        SyslogFraming f;
        f.setReference(2026, 12, true);
        QVERIFY(f.setTimeZone("Europe/Berlin"));
        SyslogLine sl;
        const char* why = nullptr;
        QVERIFY(f.parse("Jul  1 12:00:00 mx1 postfix/qmgr[5]: x", sl, why)); // CEST, UTC+2
        QCOMPARE(sl.time, civilToMs(2026, 7, 1, 10, 0, 0, 0));
        QVERIFY(f.parse("Nov 22 12:00:00 mx1 postfix/qmgr[5]: x", sl, why)); // CET, UTC+1
        QCOMPARE(sl.time, civilToMs(2026, 11, 22, 11, 0, 0, 0));
        // RFC 3339 stamps carry their own offset; the zone does not apply.
        QVERIFY(f.parse("2026-11-22T12:00:00+00:00 mx1 postfix/qmgr[5]: x", sl, why));
        QCOMPARE(sl.time, civilToMs(2026, 11, 22, 12, 0, 0, 0));
        QVERIFY(!f.setTimeZone("Mars/Olympus_Mons"));
    }
    void framingRejectsGarbage_data() {
        QTest::addColumn<QString>("line");
        QTest::newRow("no stamp") << "hello world";
        QTest::newRow("bad month") << "Foo 22 09:00:01 mx1 postfix/smtpd[1]: x";
        QTest::newRow("bad rfc3339") << "2026-13-22T09:00:01Z mx1 postfix/smtpd[1]: x";
        QTest::newRow("no tag") << "Nov 22 09:00:01 mx1";
    }
    void framingRejectsGarbage() {
        QFETCH(QString, line);
        PostfixAssembler a;
        a.framing().setReference(2026, 12, true);
        std::string why;
        const QByteArray b = line.toUtf8();
        QCOMPARE(a.feed(std::string_view(b.constData(), b.size()), why), PostfixAssembler::Result::Rejected);
        QVERIFY(!why.empty());
    }
    void queueIds() {
        QVERIFY(isQueueId("4F2A61C0B1"));
        QVERIFY(isQueueId("BA8F630001DA"));
        QVERIFY(isQueueId("4Pq3vx6Xyz2Kb"));
        QVERIFY(!isQueueId("warning"));
        QVERIFY(!isQueueId("statistics"));
        QVERIFY(!isQueueId("NOQUEUE"));
    }
    void mimeWords() {
        QCOMPARE(decodeMimeWords("=?UTF-8?B?SUxPVkVZT1U=?="), std::string("ILOVEYOU"));
        QCOMPARE(decodeMimeWords("=?iso-8859-1?Q?Caf=E9_cr=E8me?= ok"), std::string("Caf\xC3\xA9 cr\xC3\xA8me ok"));
        QCOMPARE(decodeMimeWords("plain"), std::string("plain"));
    }
    void ownFixtureRelay() {
        const Parsed p = parseFiles({QStringLiteral(MT_TEST_DATA "/postfix/relay_mx1.log"),
                                     QStringLiteral(MT_TEST_DATA "/postfix/relay_mx2.log")});
        QCOMPARE(p.stats.rejected, 0);
        QCOMPARE(p.stats.skipped, 1); // the dovecot line
        QCOMPARE(p.rejects.size(), std::size_t(1));
        QCOMPARE(p.rejects[0].clientIp, std::string("198.51.100.9"));
        QCOMPARE(p.rejects[0].recipient, std::string("x@corp.example"));
        QCOMPARE(p.rejects[0].stage, std::string("RCPT"));
        QCOMPARE(p.copies.size(), std::size_t(5));
        const CopyRecord* c = findCopy(p, "4F2A61C0B1");
        QVERIFY(c);
        QCOMPARE(c->server, std::string("mx1"));
        QCOMPARE(c->messageId, std::string("m1@corp.example"));
        QVERIFY(c->messageIdValid);
        QCOMPARE(c->saslUser, std::string("alice@corp.example"));
        QCOMPARE(c->clientHost, std::string("ws-alice.corp.example"));
        QCOMPARE(c->clientIp, std::string("10.1.0.5"));
        QCOMPARE(c->sender, std::string("alice@corp.example"));
        QCOMPARE(c->size, std::int64_t(24310));
        QCOMPARE(c->nrcpt, 3);
        QCOMPARE(c->subject, std::string("ILOVEYOU"));
        QCOMPARE(c->attachments.size(), std::size_t(1)); // Content-Type and -Disposition name the same file
        QCOMPARE(c->attachments[0], std::string("LOVE-LETTER-FOR-YOU.TXT.vbs"));
        QVERIFY(c->removed);
        QCOMPARE(c->deliveries.size(), std::size_t(3));
        const DeliveryRecord* bob = findDelivery(*c, "bob@corp.example");
        QVERIFY(bob);
        QCOMPARE(bob->queuedAs, std::string("9C1D22E0F3"));
        QCOMPARE(bob->relayHost, std::string("mx2.corp.example"));
        QCOMPARE(bob->relayPort, 25);
        const DeliveryRecord* partner = findDelivery(*c, "partner@example.net");
        QVERIFY(partner);
        QCOMPARE(partner->status, std::string("sent")); // the later success overrides the deferral
        QCOMPARE(partner->attempts, 2);
        const DeliveryRecord* carol = findDelivery(*c, "carol@corp.example");
        QCOMPARE(carol->transport, std::string("lmtp"));
        // Queue id reuse on mx2: two copies under 9C1D22E0F3 with different messages.
        const CopyRecord* first = findCopy(p, "9C1D22E0F3", 0);
        const CopyRecord* second = findCopy(p, "9C1D22E0F3", 1);
        QVERIFY(first && second);
        QCOMPARE(first->messageId, std::string("m1@corp.example"));
        QCOMPARE(second->messageId, std::string("m2@corp.example"));
        QCOMPARE(second->saslUser, std::string("dave@corp.example"));
        // A missing Message-ID is kept as invalid, not dropped.
        const CopyRecord* frank = findCopy(p, "7E7E7E7E7E");
        QVERIFY(frank);
        QVERIFY(!frank->messageIdValid);
        QCOMPARE(frank->sender, std::string("frank@corp.example"));
        // pickup: local submission.
        const CopyRecord* root = findCopy(p, "5A0B0C0D0E");
        QCOMPARE(root->origin, std::string("pickup"));
        QCOMPARE(root->deliveries[0].origRecipient, std::string("root"));
    }
    void lightmeterSingleDelivery() {
        MT_REQUIRE_PUBLIC_DATA();
        const Parsed p = parseFiles({lightmeter("11_single_successful_delivery.log")});
        QCOMPARE(p.stats.rejected, 0);
        QCOMPARE(p.copies.size(), std::size_t(2)); // submission copy and the amavis re-injection
        const CopyRecord* sub = findCopy(p, "BA8F630001DA");
        QCOMPARE(sub->saslUser, std::string("sender@mydomain.com"));
        QCOMPARE(sub->deliveries[0].queuedAs, std::string("1310930001DB"));
        const CopyRecord* out = findCopy(p, "1310930001DB");
        QCOMPARE(out->deliveries[0].relayHost, std::string("gmail-smtp-in.l.google.com"));
        QCOMPARE(out->messageId, sub->messageId);
    }
    void lightmeterBounces() {
        MT_REQUIRE_PUBLIC_DATA();
        const Parsed p = parseFiles({lightmeter("2_multiple_recipients_some_bounces.log")});
        QCOMPARE(p.stats.rejected, 0);
        const CopyRecord* out = findCopy(p, "1310930001DB");
        QVERIFY(out);
        QCOMPARE(out->deliveries.size(), std::size_t(5));
        int bounced = 0;
        for (const auto& d : out->deliveries) bounced += d.status == "bounced";
        QCOMPARE(bounced, 3);
        const CopyRecord* ndr = findCopy(p, "C7B4530001DA");
        QVERIFY(ndr);
        QCOMPARE(ndr->deliveries[0].transport, std::string("lmtp"));
    }
    void lightmeterQueueIdReuse() {
        MT_REQUIRE_PUBLIC_DATA();
        const Parsed p = parseFiles({lightmeter("14_reuse_of_queueid.log")});
        QCOMPARE(p.stats.rejected, 0);
        const CopyRecord* a = findCopy(p, "BABABABABA", 0);
        const CopyRecord* b = findCopy(p, "BABABABABA", 1);
        QVERIFY(a && b);
        QVERIFY(a->messageId != b->messageId);
        QVERIFY(a->removed && b->removed);
    }
    void lightmeterBrokenMessageIds() {
        MT_REQUIRE_PUBLIC_DATA();
        const Parsed corrupted = parseFiles({lightmeter("16_corrupted_messageid.log")});
        bool sawInvalid = false;
        for (const auto& c : corrupted.copies) sawInvalid |= !c.messageIdValid && !c.messageId.empty();
        QVERIFY(sawInvalid);
        const Parsed empty = parseFiles({lightmeter("13_empty_msgid_issue_388.log")});
        const CopyRecord* e = findCopy(empty, "BABABABABABA");
        QVERIFY(e);
        QVERIFY(!e->messageIdValid);
    }
    void lightmeterTwoServers() {
        MT_REQUIRE_PUBLIC_DATA();
        const Parsed p = parseFiles({lightmeter("29_inbound_relayed_message_server_1.log"),
                                     lightmeter("29_inbound_relayed_message_server_2.log")});
        const CopyRecord* s1 = findCopy(p, "670FCA58C8");
        const CopyRecord* s2 = findCopy(p, "F27E789349");
        QVERIFY(s1 && s2);
        QCOMPARE(s1->server, std::string("lightmetermail"));
        QCOMPARE(s2->server, std::string("mail2"));
        QCOMPARE(s1->messageId, s2->messageId);
        QCOMPARE(s1->deliveries[0].queuedAs, std::string("F27E789349"));
    }
    void lightmeterRejects() {
        MT_REQUIRE_PUBLIC_DATA();
        const Parsed p = parseFiles({lightmeter("17-smtpd-reject.log")});
        QCOMPARE(p.stats.rejected, 0);
        QCOMPARE(p.rejects.size(), std::size_t(1));
        QCOMPARE(p.rejects[0].recipient, std::string("h-c715634009216@h-14dc4a6d.com"));
        QVERIFY(p.copies.empty()); // rejected attempts, not messages
    }
    // Issue 15, item 2: "message-id=<x@y> " (a blank after the bracket) is the id x@y.
    void messageIdWithTrailingBlankIsTrimmed() {
        const Parsed p = parseFiles({QStringLiteral(MT_TEST_DATA "/postfix/issue15_statuses.log")});
        const CopyRecord* c = findCopy(p, "6A0000000A");
        QVERIFY(c);
        QCOMPARE(c->messageId, std::string("trailing-space@example.net"));
        QVERIFY(c->messageIdValid);
    }
    // Item 3: a queue id logging two message-id= lines is one copy (sender, recipients and all).
    void twoMessageIdLinesAreOneCopy() {
        const Parsed p = parseFiles({QStringLiteral(MT_TEST_DATA "/postfix/issue15_statuses.log")});
        int copies = 0;
        for (const auto& c : p.copies) copies += c.queueId == "6B0000000B";
        QCOMPARE(copies, 1);
        const CopyRecord* c = findCopy(p, "6B0000000B");
        QCOMPARE(c->messageId, std::string("first-id@example.net"));
        QCOMPARE(c->sender, std::string("news@example.net"));
        QCOMPARE(c->clientIp, std::string("192.0.2.10"));
        QCOMPARE(c->deliveries.size(), std::size_t(1));
        QVERIFY(c->removed);
    }
    // Item 4: "status=expired, returned to sender" ends the recipients still deferred.
    void expiredIsAFinalStatus() {
        const Parsed p = parseFiles({QStringLiteral(MT_TEST_DATA "/postfix/issue15_statuses.log")});
        const CopyRecord* c = findCopy(p, "6C0000000C");
        QVERIFY(c);
        QCOMPARE(findDelivery(*c, "gone@example.org")->status, std::string("expired"));
        QVERIFY(findDelivery(*c, "gone@example.org")->response.find("Connection timed out") != std::string::npos);
        QCOMPARE(findDelivery(*c, "fine@example.org")->status, std::string("sent")); // already done before
    }
    // Item 5: a content filter's discard, quarantine or reject is an outcome of its own, with
    // the filter's answer (the virus name) kept.
    void contentFilterOutcomes() {
        const Parsed p = parseFiles({QStringLiteral(MT_TEST_DATA "/postfix/issue15_statuses.log")});
        const CopyRecord* c = findCopy(p, "6D0000000D");
        QVERIFY(c);
        const DeliveryRecord* bob = findDelivery(*c, "bob@corp.example");
        QCOMPARE(bob->status, std::string("discarded"));
        QVERIFY(bob->response.find("INFECTED: Eicar-Test-Signature") != std::string::npos);
        QCOMPARE(findDelivery(*c, "carol@corp.example")->status, std::string("filter-rejected"));
        QVERIFY(findDelivery(*c, "carol@corp.example")->response.find("Eicar-Test-Signature") != std::string::npos);
        QCOMPARE(findDelivery(*c, "dave@corp.example")->status, std::string("quarantined"));
        QVERIFY(findDelivery(*c, "dave@corp.example")->response.find("BANNED: invoice.exe") != std::string::npos);
        // An ordinary answer is left alone.
        QVERIFY(filterOutcome("sent", "250 2.0.0 Ok: queued as 2B3C4D5E6F").empty());
        QVERIFY(filterOutcome("bounced", "host x said: 550 5.1.1 User unknown").empty());
    }
    // Item 9: a damaged `removed` line is an unreadable line with its reason, not ignored.
    void damagedRemovedLineIsUnreadable() {
        const Parsed p = parseFiles({QStringLiteral(MT_TEST_DATA "/postfix/issue15_statuses.log")});
        QCOMPARE(p.stats.rejected, 1);
        QVERIFY(p.reasons.front().find("removed") != std::string::npos);
    }
    // Item 6: each reject line carries its pid and queue id, so alike lines stay apart; cleanup
    // rejects after DATA are rejects too.
    void rejectLinesKeepPidAndQueueId() {
        const Parsed p = parseFiles({QStringLiteral(MT_TEST_DATA "/postfix/issue15_rejects.log")});
        QCOMPARE(p.stats.rejected, 0);
        QCOMPARE(p.rejects.size(), std::size_t(7));
        QCOMPARE(p.rejects[0].pid, std::string("401"));
        QCOMPARE(p.rejects[2].pid, std::string("402"));
        QCOMPARE(p.rejects[5].queueId, std::string("7A0000000A"));
        QCOMPARE(p.rejects[6].queueId, std::string("7B0000000B"));
        QCOMPARE(p.rejects[6].recipient, std::string("carol@corp.example"));
        QVERIFY(p.rejects[6].reason.find("Virus found") != std::string::npos);
    }
    // Item 7: Sendmail's lines are copies of their own; the MSP's hand-over names Postfix's
    // queue id, and the submitting user is kept.
    void sendmailCopiesAndHandOver() {
        const Parsed p = parseFiles({QStringLiteral(MT_TEST_DATA "/postfix/issue15_sendmail.log")});
        QCOMPARE(p.stats.rejected, 0);
        QCOMPARE(p.stats.skipped, 0);
        const CopyRecord* msp = findCopy(p, "0APB00aa000500");
        QVERIFY(msp);
        QCOMPARE(msp->messageId, std::string("202611251100.0APB00aa000500@gw.corp.example"));
        QVERIFY(msp->messageIdValid);
        QCOMPARE(msp->saslUser, std::string("joe"));
        QCOMPARE(msp->sender, std::string("joe"));
        QCOMPARE(msp->size, 812);
        QVERIFY(msp->removed);
        QCOMPARE(msp->deliveries.size(), std::size_t(2));
        const DeliveryRecord* bob = findDelivery(*msp, "bob@corp.example");
        QVERIFY(bob);
        QCOMPARE(bob->status, std::string("sent"));
        QCOMPARE(bob->queuedAs, std::string("8C0000000C"));
        QCOMPARE(bob->relayIp, std::string("127.0.0.1"));
        QCOMPARE(bob->transport, std::string("relay"));
        QVERIFY(findDelivery(*msp, "partner@example.net"));
        const CopyRecord* pf = findCopy(p, "8C0000000C");
        QVERIFY(pf);
        QCOMPARE(pf->messageId, msp->messageId);
        // sm-mta's refusal is a reject event.
        QCOMPARE(p.rejects.size(), std::size_t(1));
        QCOMPARE(p.rejects[0].recipient, std::string("victim@corp.example"));
        QCOMPARE(p.rejects[0].clientIp, std::string("198.51.100.66"));
        QCOMPARE(p.rejects[0].stage, std::string("RCPT"));
    }
    // Every file of the public Postfix corpus parses without a single unreadable line.
    void publicCorpusHasNoUnreadableLines() {
        MT_REQUIRE_PUBLIC_DATA();
        QDir dir(mt::test::publicData(QStringLiteral("postfix/lightmeter/individual_files")));
        const QStringList files = dir.entryList({QStringLiteral("*.log")}, QDir::Files);
        QVERIFY(files.size() >= 30);
        for (const QString& f : files) {
            const Parsed p = parseFiles({dir.filePath(f)});
            // 18_expired.log really has a broken line: "ir/)", the tail of a split syslog record.
            const int expected = f == QLatin1String("18_expired.log") ? 1 : 0;
            if (p.stats.rejected != expected) qWarning() << f << QString::fromStdString(p.reasons.front());
            QCOMPARE(p.stats.rejected, expected);
        }
        QDir rot(mt::test::publicData(QStringLiteral("postfix/lightmeter/complete_logs_sample/logs_sample")));
        QStringList all;
        for (const QString& f : rot.entryList(QDir::Files)) all << rot.filePath(f);
        const Parsed p = parseFiles(all, 2021);
        QCOMPARE(p.stats.rejected, 0);
        QVERIFY(p.stats.skipped > 0); // dovecot, amavis, opendkim lines in the same files
        QVERIFY(p.copies.size() > 50);
    }
    void fail2banVariants() {
        MT_REQUIRE_PUBLIC_DATA();
        const QString path = mt::test::publicData(QStringLiteral("postfix/isolated/fail2ban_tests_logs_postfix"));
        const Parsed p = parseFiles({path}, 2005);
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        int noqueueRejects = 0;
        while (!f.atEnd()) {
            const QByteArray l = f.readLine();
            // Rejects logged under a queue id ("1D8CC1CA0A7F: milter-reject: DATA ...") count too.
            if (!l.startsWith('#') && (l.contains("]: NOQUEUE: reject:") || l.contains("]: NOQUEUE: milter-reject:")
                                       || QRegularExpression(QStringLiteral("smtpd\\[\\d+\\]: [0-9A-F]+: (milter-)?reject: "))
                                              .match(QString::fromUtf8(l)).hasMatch()))
                ++noqueueRejects;
        }
        QCOMPARE(static_cast<int>(p.rejects.size()), noqueueRejects);
        QCOMPARE(noqueueRejects, 25);
        for (const auto& r : p.rejects) QVERIFY(!r.stage.empty());
    }
    // The grok-pattern corpus: message bodies without syslog framing; we give them one.
    void grokBodies() {
        MT_REQUIRE_PUBLIC_DATA();
        QFile f(mt::test::publicData(QStringLiteral("postfix/isolated/whyscream_postfix-grok-patterns_test_messages.jsonl")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        PostfixAssembler a;
        a.framing().setReference(2026, 12, true);
        int n = 0, rejected = 0;
        std::string why;
        while (!f.atEnd()) {
            const QJsonObject o = QJsonDocument::fromJson(f.readLine()).object();
            QString daemon = o.value(QStringLiteral("grok_pattern")).toString().toLower().remove(QStringLiteral("postfix_"));
            daemon = daemon.section(QLatin1Char('_'), 0, 0);
            const QByteArray line = ("2026-11-22T09:00:00Z mx1 postfix/" + daemon + "[1]: "
                                     + o.value(QStringLiteral("message")).toString()).toUtf8();
            ++n;
            if (a.feed(std::string_view(line.constData(), line.size()), why) == PostfixAssembler::Result::Rejected) {
                ++rejected;
                qInfo() << "rejected:" << line.left(160) << QString::fromStdString(why);
            }
        }
        QCOMPARE(n, 191);
        QCOMPARE(rejected, 0);
    }
    void gzipAndTruncatedGzip() {
        QTemporaryDir tmp;
        const QString src = QStringLiteral(MT_TEST_DATA "/postfix/relay_mx1.log");
        const QString gz = tmp.filePath(QStringLiteral("mail.log.1.gz"));
        QVERIFY(QProcess::execute(QStringLiteral("sh"), {QStringLiteral("-c"),
                                  QStringLiteral("gzip -c '%1' > '%2'").arg(src, gz)}) == 0);
        LineReader r(gz);
        QVERIFY(r.open());
        QVERIFY(r.isGzip());
        std::string_view line;
        int n = 0;
        while (r.next(line)) ++n;
        QCOMPARE(n, 20);
        QVERIFY(r.error().empty());
        // Cut the gzip in half: the reader must say so rather than end quietly.
        QFile g(gz);
        QVERIFY(g.open(QIODevice::ReadOnly));
        const QByteArray half = g.readAll().left(static_cast<int>(g.size() / 2));
        const QString cut = tmp.filePath(QStringLiteral("cut.gz"));
        QFile c(cut);
        QVERIFY(c.open(QIODevice::WriteOnly));
        c.write(half);
        c.close();
        LineReader rc(cut);
        QVERIFY(rc.open());
        while (rc.next(line)) {}
        QVERIFY2(!rc.error().empty(), "a truncated gzip must be reported");
    }
    void overlongLine() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath(QStringLiteral("long.log"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("Nov 22 09:00:01 mx1 postfix/smtpd[1]: connect from a[1.2.3.4]\n");
        f.write(QByteArray(10 * 1024 * 1024, 'x'));
        f.write("\nNov 22 09:00:02 mx1 postfix/smtpd[1]: disconnect from a[1.2.3.4]\n");
        f.close();
        LineReader r(path);
        QVERIFY(r.open());
        std::string_view line;
        QVERIFY(r.next(line));
        QVERIFY(!r.lastLineTruncated());
        QVERIFY(r.next(line));
        QVERIFY(r.lastLineTruncated());
        QCOMPARE(r.lastLineLength(), std::size_t(10 * 1024 * 1024));
        QVERIFY(r.next(line));
        QVERIFY(!r.lastLineTruncated());
        QCOMPARE(r.lineNumber(), 3);
        QVERIFY(line.find("disconnect") != std::string_view::npos);
        QVERIFY(!r.next(line));
    }
};

QTEST_GUILESS_MAIN(TestPostfix)
#include "tst_postfix.moc"
