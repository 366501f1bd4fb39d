// Traffic formats other than Postfix: Exim, Zeek smtp/files (TSV and JSON), Exchange message
// tracking, Microsoft 365 message trace, our own CSV/JSONL; format sniffing; the joins across
// servers and formats through ImportJob and CaseStore; the public corpus via support/PublicData.h.
#include "support/PublicData.h"
#include "importers/EximLog.h"
#include "importers/ExchangeTracking.h"
#include "importers/GenericCsv.h"
#include "importers/LogFormat.h"
#include "importers/PostfixLog.h"
#include "importers/ZeekSmtp.h"
#include "model/CaseStore.h"
#include "model/ImportJob.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace mt;

namespace {

struct Parsed {
    std::vector<CopyRecord> copies;
    std::vector<RejectRecord> rejects;
    int accepted = 0, skipped = 0, rejected = 0;
    std::vector<std::string> reasons;
};

Parsed parse(TrafficParser& p, const QByteArray& text, TrafficContext ctx = {}) {
    Parsed out;
    p.beginFile(ctx);
    for (const QByteArray& raw : text.split('\n')) {
        QByteArray l = raw;
        if (l.endsWith('\r')) l.chop(1);
        std::string why;
        switch (p.feed(std::string_view(l.constData(), static_cast<std::size_t>(l.size())), why)) {
        case TrafficParser::Result::Accepted: ++out.accepted; break;
        case TrafficParser::Result::Skipped: ++out.skipped; break;
        case TrafficParser::Result::Rejected: ++out.rejected; out.reasons.push_back(why); break;
        }
    }
    p.endFile();
    out.copies = std::move(p.completed());
    p.snapshotOpen(out.copies);
    out.rejects = std::move(p.rejects());
    return out;
}

const CopyRecord* copyOf(const Parsed& p, const std::string& id) {
    for (const auto& c : p.copies)
        if (c.queueId == id) return &c;
    return nullptr;
}

const DeliveryRecord* deliveryOf(const CopyRecord& c, const std::string& rcpt) {
    for (const auto& d : c.deliveries)
        if (d.recipient == rcpt) return &d;
    return nullptr;
}

void writeFile(const QString& path, const QByteArray& data) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(data);
}

std::int64_t scalar(CaseStore& s, const std::string& sql) { return s.db().scalar(sql); }

std::string text(CaseStore& s, const std::string& sql) {
    auto st = s.db().prepare(sql);
    return st.step() ? st.text(0) : std::string();
}

const QString kPublic = mt::test::publicDataRoot();

// Two Exim servers: mx1 accepts from a workstation with SMTP AUTH and relays to mx2, which
// delivers locally. mx2's reply names its queue id.
const QByteArray kEximMx1 =
    "2026-11-22 09:00:01.250 [4711] 1vAbCd-000123-Xy <= alice@corp.example H=ws-17.corp.example (ws-17) [10.1.2.17]:51234 "
    "I=[10.0.0.1]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_plain:Alice@corp.example S=48211 "
    "M8S=0 id=worm-1@ws-17.corp.example T=\"ILOVEYOU \\\"kindly\\\" check\" for bob@corp.example carol@corp.example\n"
    "2026-11-22 09:00:02.001 [4712] 1vAbCd-000123-Xy => bob@corp.example R=dnslookup T=remote_smtp H=mx2.corp.example "
    "[10.0.0.2]:25 X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes K C=\"250 OK id=1vAbCe-000456-Zz\"\n"
    "2026-11-22 09:00:02.001 [4712] 1vAbCd-000123-Xy -> carol@corp.example R=dnslookup T=remote_smtp H=mx2.corp.example "
    "[10.0.0.2]:25 C=\"250 OK id=1vAbCe-000456-Zz\"\n"
    "2026-11-22 09:00:02.002 [4712] 1vAbCd-000123-Xy Completed\n";
const QByteArray kEximMx2 =
    "2026-11-22 09:00:02.000 [900] 1vAbCe-000456-Zz <= alice@corp.example H=mx1.corp.example [10.0.0.1]:40000 P=esmtps "
    "S=48900 id=worm-1@ws-17.corp.example T=\"ILOVEYOU \\\"kindly\\\" check\"\n"
    "2026-11-22 09:00:02.100 [901] 1vAbCe-000456-Zz => bob <bob@corp.example> R=localuser T=local_delivery\n"
    "2026-11-22 09:00:02.110 [901] 1vAbCe-000456-Zz => carol <carol@corp.example> R=localuser T=dovecot_lmtp\n"
    "2026-11-22 09:00:02.120 [901] 1vAbCe-000456-Zz Completed\n";

} // namespace

class TestImporters : public QObject {
    Q_OBJECT

private slots:
    // ---- Exim ----
    void eximArrivalAndDeliveries() {
        EximParser p;
        TrafficContext ctx;
        ctx.serverName = "mx1";
        const Parsed r = parse(p, kEximMx1, ctx);
        QCOMPARE(r.rejected, 0);
        QCOMPARE(r.copies.size(), std::size_t(1));
        const CopyRecord& c = r.copies[0];
        QCOMPARE(c.server, std::string("mx1"));
        QCOMPARE(c.queueId, std::string("1vAbCd-000123-Xy"));
        QCOMPARE(c.sender, std::string("alice@corp.example"));
        QCOMPARE(c.clientHost, std::string("ws-17.corp.example"));
        QCOMPARE(c.clientIp, std::string("10.1.2.17"));
        QCOMPARE(c.saslUser, std::string("alice@corp.example"));
        QCOMPARE(c.origin, std::string("esmtpsa"));
        QCOMPARE(c.size, std::int64_t(48211));
        QCOMPARE(c.messageId, std::string("worm-1@ws-17.corp.example"));
        QVERIFY(c.messageIdValid);
        QCOMPARE(c.subject, std::string("ILOVEYOU \"kindly\" check"));
        QCOMPARE(c.nrcpt, 2);
        QVERIFY(c.removed);
        QCOMPARE(c.firstSeen, civilToMs(2026, 11, 22, 9, 0, 1, 250));
        const DeliveryRecord* bob = deliveryOf(c, "bob@corp.example");
        QVERIFY(bob);
        QCOMPARE(bob->status, std::string("sent"));
        QCOMPARE(bob->transport, std::string("smtp"));
        QCOMPARE(bob->relayHost, std::string("mx2.corp.example"));
        QCOMPARE(bob->relayIp, std::string("10.0.0.2"));
        QCOMPARE(bob->relayPort, 25);
        QCOMPARE(bob->queuedAs, std::string("1vAbCe-000456-Zz"));
        QVERIFY(deliveryOf(c, "carol@corp.example"));
    }
    void eximFailuresDeferralsAndVariants() {
        const QByteArray log =
            "2026-11-22 10:00:00 +0100 1vX0aa-0000AA-00 <= <> R=1vWzzz-0000ZZ-00 U=Debian-exim P=local S=1500\n"
            "2026-11-22 10:00:01 +0100 1vX0aa-0000AA-00 ** nobody@corp.example R=localuser T=local_delivery: Unknown user\n"
            "2026-11-22 10:00:02 +0100 1vX0aa-0000AA-00 == dave@far.example R=dnslookup T=remote_smtp defer (-44) "
            "H=mx.far.example [192.0.2.9]: SMTP error from remote mail server after RCPT TO:<dave@far.example>: "
            "451 4.7.1 Greylisted\n"
            "2026-11-22 10:00:03 +0100 1vX0aa-0000AA-00 ** erin@far.example R=dnslookup T=remote_smtp H=mx.far.example "
            "[192.0.2.9]: SMTP error from remote mail server after RCPT TO:<erin@far.example>: 550 5.1.1 No such user\n"
            "2026-11-22 10:00:04 +0100 1vX0aa-0000AA-00 *> frank@corp.example R=localuser T=local_delivery\n"
            "2026-11-22 10:00:05 +0100 1vX0aa-0000AA-00 => |/usr/bin/procmail <gina@corp.example> R=userforward T=address_pipe\n"
            "2026-11-22 10:00:05 +0100 H=bad.example [198.51.100.7] F=<spam@bad.example> rejected RCPT <bob@corp.example>: "
            "relay not permitted\n"
            "2026-11-22 10:00:06 +0100 Start queue run: pid=1234\n"
            "2026-11-22 10:00:07 +0100 1vZZZZ-0000ZZ-00 Completed\n"
            "this line is not Exim at all\n"
            "# a comment\n";
        EximParser p;
        TrafficContext ctx;
        ctx.serverName = "mx9";
        const Parsed r = parse(p, log, ctx);
        QCOMPARE(r.rejected, 1);
        QVERIFY(QString::fromStdString(r.reasons[0]).contains("no Exim timestamp"));
        QVERIFY(!copyOf(r, "1vZZZZ-0000ZZ-00")); // its other lines are in an earlier rotation
        const CopyRecord* c = copyOf(r, "1vX0aa-0000AA-00");
        QVERIFY(c);
        QCOMPARE(c->sender, std::string()); // bounce
        QCOMPARE(c->firstSeen, civilToMs(2026, 11, 22, 9, 0, 0, 0)); // +0100 honoured
        QVERIFY(!c->removed);
        QCOMPARE(deliveryOf(*c, "nobody@corp.example")->status, std::string("bounced"));
        QCOMPARE(deliveryOf(*c, "nobody@corp.example")->response, std::string("Unknown user"));
        const DeliveryRecord* dave = deliveryOf(*c, "dave@far.example");
        QCOMPARE(dave->status, std::string("deferred"));
        QCOMPARE(dave->dsn, std::string("4.7.1"));
        QCOMPARE(dave->relayIp, std::string("192.0.2.9"));
        QCOMPARE(deliveryOf(*c, "erin@far.example")->dsn, std::string("5.1.1"));
        QCOMPARE(deliveryOf(*c, "frank@corp.example")->status, std::string("suppressed"));
        const DeliveryRecord* gina = deliveryOf(*c, "gina@corp.example");
        QVERIFY(gina);
        QCOMPARE(gina->transport, std::string("pipe"));
        QCOMPARE(r.rejects.size(), std::size_t(1));
        QCOMPARE(r.rejects[0].stage, std::string("RCPT"));
        QCOMPARE(r.rejects[0].clientIp, std::string("198.51.100.7"));
        QCOMPARE(r.rejects[0].recipient, std::string("bob@corp.example"));
        QCOMPARE(r.rejects[0].reason, std::string("relay not permitted"));
    }
    void eximSyslogFraming() {
        const QByteArray log =
            "2026-11-22T09:00:01.000000+00:00 mx3 exim[77]: 1vAbCd-000123-Xy <= a@corp.example H=(helo) [10.9.9.9] P=esmtp S=10\n"
            "2026-11-22T09:00:02.000000+00:00 mx3 exim[77]: 1vAbCd-000123-Xy => b@corp.example R=r T=local_delivery\n"
            "2019-10-22 03:39:17 mx1.fqdn.local exim[29786]: 1vAbCf-000123-Xy <= c@corp.example P=local S=5\n"
            "Nov 22 09:00:03 mx4 exim4[5]: 1vAbCg-000123-Xy <= d@corp.example P=local S=1\n";
        EximParser p;
        TrafficContext ctx;
        ctx.referenceYear = 2026;
        ctx.yearForced = true;
        ctx.timeZone = "Europe/Berlin"; // classic stamps carry no zone
        const Parsed r = parse(p, log, ctx);
        QCOMPARE(copyOf(r, "1vAbCg-000123-Xy")->server, std::string("mx4"));
        QCOMPARE(copyOf(r, "1vAbCg-000123-Xy")->firstSeen, civilToMs(2026, 11, 22, 8, 0, 3, 0));
        QCOMPARE(r.rejected, 0);
        const CopyRecord* c = copyOf(r, "1vAbCd-000123-Xy");
        QCOMPARE(c->server, std::string("mx3"));
        QCOMPARE(c->clientIp, std::string("10.9.9.9"));
        QCOMPARE(c->clientHost, std::string());
        QCOMPARE(deliveryOf(*c, "b@corp.example")->transport, std::string("local"));
        QCOMPARE(copyOf(r, "1vAbCf-000123-Xy")->server, std::string("mx1.fqdn.local"));
        QVERIFY(isEximId("10HmaX-000000005vi-0000"));
        QVERIFY(!isEximId("4F2A61C0B1"));
    }
    void eximTwoServersJoinInTheCase() {
        QTemporaryDir tmp;
        writeFile(tmp.filePath("mx1/mainlog"), kEximMx1);
        writeFile(tmp.filePath("mx2/mainlog.1"), kEximMx2);
        CaseStore s;
        s.open(tmp.filePath("c.mtcase"));
        ImportOptions o;
        o.format = LogFormat::Auto;
        // Either order: the join waits for the other server.
        const ImportReport r = ImportJob(s, o).importLogs({tmp.filePath("mx2/mainlog.1"), tmp.filePath("mx1/mainlog")});
        for (const auto& f : r.files) {
            QVERIFY2(f.ok, f.error.c_str());
            QCOMPARE(f.figures.kind, std::string("exim"));
        }
        const CaseCounts c = s.counts();
        QCOMPARE(c.messages, 1);
        QCOMPARE(c.copies, 2);
        QCOMPARE(c.servers, 2);
        QCOMPARE(c.deliveries, 2); // final outcomes: bob and carol on mx2
        QCOMPARE(scalar(s, "SELECT count(*) FROM deliveries WHERE is_final = 1 AND destination = 'mx2'"), 2);
        QCOMPARE(scalar(s, "SELECT count(*) FROM deliveries WHERE next_copy_id IS NOT NULL"), 2);
        QCOMPARE(text(s, "SELECT s.name FROM messages m JOIN servers s ON s.id = m.origin_server_id"), std::string("mx1"));
        QCOMPARE(text(s, "SELECT client_ip FROM messages"), std::string("10.1.2.17"));
        QCOMPARE(text(s, "SELECT subject FROM messages"), std::string("ILOVEYOU \"kindly\" check"));
    }
    void mixedPostfixAndEximJoinOnMessageId() {
        // An Exim edge relays to a Postfix mailbox server: "queued as" in Postfix's reply, and
        // the same Message-ID on both sides.
        const QByteArray exim =
            "2026-11-22 09:00:01 1vAbCd-000123-Xy <= alice@corp.example H=ws [10.1.2.17] P=esmtpsa S=900 id=mixed-1@corp.example\n"
            "2026-11-22 09:00:02 1vAbCd-000123-Xy => bob@corp.example R=dnslookup T=remote_smtp H=pf1.corp.example "
            "[10.0.0.5] C=\"250 2.0.0 Ok: queued as 4F2A61C0B1\"\n"
            "2026-11-22 09:00:02 1vAbCd-000123-Xy Completed\n";
        const QByteArray postfix =
            "2026-11-22T09:00:02.100000+00:00 pf1 postfix/smtpd[1]: 4F2A61C0B1: client=edge.corp.example[10.0.0.1]\n"
            "2026-11-22T09:00:02.200000+00:00 pf1 postfix/cleanup[2]: 4F2A61C0B1: message-id=<mixed-1@corp.example>\n"
            "2026-11-22T09:00:02.300000+00:00 pf1 postfix/qmgr[3]: 4F2A61C0B1: from=<alice@corp.example>, size=950, nrcpt=1 (queue active)\n"
            "2026-11-22T09:00:02.400000+00:00 pf1 postfix/lmtp[4]: 4F2A61C0B1: to=<bob@corp.example>, relay=127.0.0.1[127.0.0.1]:24, "
            "delay=0.3, delays=0.1/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Saved)\n"
            "2026-11-22T09:00:02.500000+00:00 pf1 postfix/qmgr[3]: 4F2A61C0B1: removed\n";
        QTemporaryDir tmp;
        writeFile(tmp.filePath("edge/mainlog"), exim);
        writeFile(tmp.filePath("pf1.log"), postfix);
        CaseStore s;
        s.open(tmp.filePath("m.mtcase"));
        ImportOptions o;
        o.format = LogFormat::Auto;
        const ImportReport r = ImportJob(s, o).importLogs({tmp.filePath("pf1.log"), tmp.filePath("edge/mainlog")});
        for (const auto& f : r.files) QVERIFY2(f.ok, f.error.c_str());
        QCOMPARE(s.counts().messages, 1);
        QCOMPARE(s.counts().copies, 2);
        QCOMPARE(text(s, "SELECT destination FROM deliveries WHERE is_final = 1"), std::string("pf1"));
        QCOMPARE(text(s, "SELECT s.name FROM messages m JOIN servers s ON s.id = m.origin_server_id"), std::string("edge"));
    }

    // ---- Zeek ----
    void zeekTsvWithFilesLog() {
        const QByteArray files =
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tfiles\n"
            "#fields\tts\tfuid\tsource\tmime_type\tfilename\n#types\ttime\tstring\tstring\tstring\tstring\n"
            "1763802001.5\tFmFp351N5nhsMmAfQg\tSMTP\ttext/plain\t-\n"
            "1763802001.5\tFqrb1K5DWEfgy4WU2\tSMTP\tapplication/x-vbscript\tLOVE-LETTER-FOR-YOU.TXT.vbs\n";
        const QByteArray smtp =
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tsmtp\n"
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\thelo\tmailfrom\trcptto\tdate\tfrom\tto\t"
            "cc\treply_to\tmsg_id\tin_reply_to\tsubject\tx_originating_ip\tfirst_received\tsecond_received\tlast_reply\tpath\t"
            "user_agent\ttls\tfuids\n"
            "#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tset[string]\tstring\tstring\tset[string]\t"
            "set[string]\tstring\tstring\tstring\tstring\taddr\tstring\tstring\tstring\tvector[addr]\tstring\tbool\tvector[string]\n"
            "1763802001.250000\tCHhAvVGS1DHFjwGM9\t10.1.2.17\t1470\t10.0.0.2\t25\t1\tws-17\talice@corp.example\t"
            "bob@corp.example,carol@corp.example\tSat, 22 Nov 2026\talice@corp.example\tbob@corp.example\t-\t-\t"
            "<worm-1@ws-17.corp.example>\t-\tILOVEYOU\t-\t-\t-\t250 OK id=1vAbCe-000456-Zz\t10.0.0.2,10.1.2.17\t-\tF\t"
            "FmFp351N5nhsMmAfQg,Fqrb1K5DWEfgy4WU2\n"
            "1763802002.000000\tCUM0KZ3MLUfNB0cl11\t203.0.113.9\t4444\t10.0.0.2\t25\t1\tx\tspam@bad.example\tbob@corp.example\t"
            "-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t550 5.7.1 Relaying denied\t-\t-\tF\t(empty)\n"
            "1763802003.000000\tCabc\t10.1.2.17\t1\t10.0.0.2\t25\t1\tws\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t220 ready\t-\t-\tT\t(empty)\n"
            "XXXXXXXXXX.XXXXXX\tCbad\t10.1.2.17\t1\t10.0.0.2\t25\t1\tws\ta@b\tc@d\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t250 ok\t-\t-\tT\t(empty)\n"
            "too\tfew\tcolumns\n#close\t2026-11-22-10-00-00\n";
        auto map = std::make_shared<ZeekFileMap>();
        ZeekFilesParser fp(map);
        QCOMPARE(parse(fp, files).rejected, 0);
        QCOMPARE(map->size(), std::size_t(2));
        ZeekSmtpParser p;
        TrafficContext ctx;
        ctx.zeekFiles = map;
        const Parsed r = parse(p, smtp, ctx);
        QCOMPARE(r.rejected, 2);
        QVERIFY(QString::fromStdString(r.reasons[0]).contains("is not a time"));
        QVERIFY(QString::fromStdString(r.reasons[1]).contains("columns"));
        QCOMPARE(r.copies.size(), std::size_t(1));
        const CopyRecord& c = r.copies[0];
        QCOMPARE(c.server, std::string("zeek"));
        QCOMPARE(c.queueId, std::string("CHhAvVGS1DHFjwGM9/1"));
        QCOMPARE(c.messageId, std::string("worm-1@ws-17.corp.example"));
        QCOMPARE(c.clientIp, std::string("10.1.2.17"));
        QCOMPARE(c.firstSeen, TimeMs(1763802001250));
        QCOMPARE(c.attachments, std::vector<std::string>{"LOVE-LETTER-FOR-YOU.TXT.vbs"});
        QCOMPARE(c.deliveries.size(), std::size_t(2));
        QCOMPARE(c.deliveries[0].queuedAs, std::string("1vAbCe-000456-Zz"));
        QCOMPARE(c.deliveries[0].relayIp, std::string("10.0.0.2"));
        QCOMPARE(r.rejects.size(), std::size_t(1));
        QCOMPARE(r.rejects[0].reason, std::string("550 5.7.1 Relaying denied"));
    }
    // Found by fuzz_zeek (issue 15 item 18): a second #fields header with fewer or other
    // columns (smtp.log files of two Zeek versions concatenated) was read with the first
    // header's column positions: the wrong fields, and a read past the row (ASan:
    // heap-buffer-overflow in fromTsv). Each block is read by its own header.
    void zeekSecondFieldsHeader() {
        const QByteArray smtp =
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tsmtp\n"
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\thelo\tmailfrom\trcptto\tmsg_id\tsubject\tlast_reply\tfuids\n"
            "1763802001.250000\tCfirst\t10.1.2.17\t1470\t10.0.0.2\t25\t1\tws-17\talice@corp.example\tbob@corp.example\t"
            "<a-1@corp.example>\tone\t250 OK id=1vAbCe-000456-Zz\t(empty)\n"
            "#fields\tuid\tts\tmailfrom\trcptto\tlast_reply\n"
            "Csecond\t1763802005.000000\tcarol@corp.example\tdave@corp.example\t250 2.0.0 Ok: queued as 4B2A61C0B2\n";
        ZeekSmtpParser p;
        const Parsed r = parse(p, smtp);
        QVERIFY2(r.rejected == 0, r.reasons.empty() ? "" : r.reasons[0].c_str());
        QCOMPARE(r.copies.size(), std::size_t(2));
        QCOMPARE(r.copies[1].queueId, std::string("Csecond/1"));
        QCOMPARE(r.copies[1].firstSeen, TimeMs(1763802005000));
        QCOMPARE(r.copies[1].sender, std::string("carol@corp.example"));
    }
    void zeekJsonAndSensorToEximJoin() {
        const QByteArray json =
            "{\"_path\":\"smtp\",\"ts\":\"2026-11-22T09:00:01.900Z\",\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":40000,"
            "\"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":25,\"trans_depth\":1,\"mailfrom\":\"alice@corp.example\","
            "\"rcptto\":[\"bob@corp.example\",\"carol@corp.example\"],\"msg_id\":\"<worm-1@ws-17.corp.example>\","
            "\"subject\":\"ILOVEYOU \\\"kindly\\\" check \\u00e9\",\"last_reply\":\"250 OK id=1vAbCe-000456-Zz\",\"fuids\":[]}\n"
            "{\"_path\":\"smtp\",\"ts\":1763802001.5,\"uid\":\"C2\" broken\n";
        ZeekSmtpParser p;
        const Parsed r = parse(p, json);
        QCOMPARE(r.rejected, 1);
        QVERIFY(QString::fromStdString(r.reasons[0]).contains("malformed JSON"));
        QCOMPARE(r.copies.size(), std::size_t(1));
        QCOMPARE(r.copies[0].subject, std::string("ILOVEYOU \"kindly\" check \xC3\xA9"));
        // The sensor's copy joins mx2's Exim copy through the reply's id.
        QTemporaryDir tmp;
        writeFile(tmp.filePath("sensor/smtp.json"), json.left(json.indexOf('\n') + 1));
        writeFile(tmp.filePath("mx2/mainlog"), kEximMx2);
        CaseStore s;
        s.open(tmp.filePath("z.mtcase"));
        ImportOptions o;
        o.format = LogFormat::Auto;
        const ImportReport rep = ImportJob(s, o).importLogs({tmp.filePath("sensor/smtp.json"), tmp.filePath("mx2/mainlog")});
        for (const auto& f : rep.files) QVERIFY2(f.ok, f.error.c_str());
        QCOMPARE(s.counts().messages, 1);
        QCOMPARE(scalar(s, "SELECT count(*) FROM deliveries WHERE is_final = 1 AND destination = 'mx2'"), 2);
    }

    // ---- Exchange and Microsoft 365 ----
    void exchangeTrackingAcrossTwoServers() {
        const QByteArray head = "\xEF\xBB\xBF#Software: Microsoft Exchange Server\r\n#Version: 15.01.2507.006\r\n"
                                "#Log-type: Message Tracking Log\r\n"
                                "#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,"
                                "connector-id,source,event-id,internal-message-id,message-id,network-message-id,"
                                "recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,"
                                "reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,"
                                "original-client-ip,original-server-ip,custom-data\r\n";
        const QByteArray ex1 = head +
            "2026-11-22T09:00:01.000Z,10.1.2.17,WS-17,10.0.0.11,EX1,08DB,EX1\\Client Proxy,SMTP,RECEIVE,1001,"
            "<worm-2@corp.example>,nm-1,bob@corp.example;carol@corp.example;dan@far.example,,5000,3,,,"
            "\"Love, \"\"really\"\"\",alice@corp.example,alice@corp.example,,Originating,,10.1.2.17,10.0.0.11,\r\n"
            "2026-11-22T09:00:02.000Z,10.0.0.11,EX1,10.0.0.12,EX2,\"250 2.6.0 <worm-2@corp.example> [InternalId=2002, "
            "Hostname=EX2.corp.example] Queued mail for delivery\",Intra-Organization SMTP Send Connector,SMTP,SEND,1001,"
            "<worm-2@corp.example>,nm-1,bob@corp.example;carol@corp.example,250 2.1.5 Recipient OK;250 2.1.5 Recipient OK,"
            "5000,2,,,\"Love, \"\"really\"\"\",alice@corp.example,alice@corp.example,,Originating,,,,\r\n"
            "2026-11-22T09:00:03.000Z,10.0.0.11,EX1,,,,,SMTP,FAIL,1001,<worm-2@corp.example>,nm-1,dan@far.example,"
            "550 5.1.1 User unknown,5000,1,,,Love,alice@corp.example,alice@corp.example,,Originating,,,,\r\n"
            "2026-11-22T09:00:04.000Z,,,,EX1,,,SMTP,RECEIVE,1001,<worm-2@corp.example>,nm-1,x@y\r\n";
        const QByteArray ex2 = head +
            "2026-11-22T09:00:02.100Z,10.0.0.11,EX1,10.0.0.12,EX2,08DB,EX2\\Default,SMTP,RECEIVE,2002,<worm-2@corp.example>,"
            "nm-1,bob@corp.example;carol@corp.example,,5100,2,,,\"Love, \"\"really\"\"\",alice@corp.example,"
            "alice@corp.example,,Originating,,10.1.2.17,10.0.0.11,\r\n"
            "2026-11-22T09:00:02.500Z,,EX2,,EX2,MDB:1,,STOREDRIVER,DELIVER,2002,<worm-2@corp.example>,nm-1,"
            "bob@corp.example;carol@corp.example,,5100,2,,,\"Love, \"\"really\"\"\",alice@corp.example,alice@corp.example,,"
            "Originating,,,,\r\n";
        ExchangeTrackingParser p;
        const Parsed r = parse(p, ex1);
        QCOMPARE(r.rejected, 1); // the short line
        QVERIFY(QString::fromStdString(r.reasons[0]).contains("fields where #Fields: names"));
        const CopyRecord* c = copyOf(r, "1001");
        QVERIFY(c);
        QCOMPARE(c->server, std::string("ex1"));
        QCOMPARE(c->subject, std::string("Love, \"really\""));
        QCOMPARE(c->clientIp, std::string("10.1.2.17"));
        QCOMPARE(c->size, std::int64_t(5000));
        QCOMPARE(deliveryOf(*c, "bob@corp.example")->queuedAs, std::string("2002"));
        QCOMPARE(deliveryOf(*c, "bob@corp.example")->relayHost, std::string("ex2"));
        QCOMPARE(deliveryOf(*c, "dan@far.example")->status, std::string("bounced"));
        QCOMPARE(deliveryOf(*c, "dan@far.example")->dsn, std::string("5.1.1"));

        QTemporaryDir tmp;
        writeFile(tmp.filePath("MSGTRK2026112209-1.LOG"), ex1);
        writeFile(tmp.filePath("ex2/MSGTRK2026112209-1.LOG"), ex2);
        CaseStore s;
        s.open(tmp.filePath("x.mtcase"));
        ImportOptions o;
        o.format = LogFormat::Auto;
        const ImportReport rep =
            ImportJob(s, o).importLogs({tmp.filePath("MSGTRK2026112209-1.LOG"), tmp.filePath("ex2/MSGTRK2026112209-1.LOG")});
        for (const auto& f : rep.files) QVERIFY2(f.ok, f.error.c_str());
        QCOMPARE(rep.files[0].figures.rejected + rep.files[1].figures.rejected, 1);
        QCOMPARE(rep.files[0].issues.size() + rep.files[1].issues.size(), std::size_t(1));
        QCOMPARE(s.counts().messages, 1);
        QCOMPARE(scalar(s, "SELECT count(*) FROM deliveries WHERE is_final = 1 AND destination = 'ex2'"), 2);
        QCOMPARE(text(s, "SELECT status FROM deliveries WHERE recipient = 'dan@far.example'"), std::string("bounced"));
    }
    void m365Trace() {
        const QByteArray csv =
            "\xEF\xBB\xBF\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"ToIP\",\"FromIP\","
            "\"Size\",\"MessageId\",\"MessageTraceId\"\r\n"
            "\"2026-11-22T09:00:01.0000000\",\"alice@corp.example\",\"bob@corp.example\",\"ILOVEYOU\",\"Delivered\",\"\","
            "\"10.1.2.17\",\"48211\",\"<worm-3@corp.example>\",\"a1b2\"\r\n"
            "\"11/22/2026 9:00:02 AM\",\"alice@corp.example\",\"dan@far.example\",\"ILOVEYOU\",\"Failed\",\"192.0.2.9\","
            "\"10.1.2.17\",\"48211\",\"<worm-3@corp.example>\",\"a1b2\"\r\n"
            "\"someday\",\"alice@corp.example\",\"x@y\",\"s\",\"Delivered\",\"\",\"\",\"1\",\"<m@x>\",\"t\"\r\n";
        M365TraceParser p;
        const Parsed r = parse(p, csv);
        QCOMPARE(r.rejected, 1);
        QCOMPARE(r.copies.size(), std::size_t(1));
        const CopyRecord& c = r.copies[0];
        QCOMPARE(c.server, std::string("exchange-online"));
        QCOMPARE(c.messageId, std::string("worm-3@corp.example"));
        QCOMPARE(deliveryOf(c, "bob@corp.example")->transport, std::string("local"));
        QCOMPARE(deliveryOf(c, "dan@far.example")->status, std::string("bounced"));
        QCOMPARE(deliveryOf(c, "dan@far.example")->time, civilToMs(2026, 11, 22, 9, 0, 2, 0));
        const QByteArray historical =
            "origin_timestamp_utc,sender_address,recipient_status,message_subject,total_bytes,message_id,network_message_id,"
            "original_client_ip,directionality,connector_id,delivery_priority\n"
            "2026-11-22T09:00:01.000Z,alice@corp.example,bob@corp.example##Receive, Deliver;dan@far.example##Receive, Fail,"
            "Hi,100,<h-1@corp.example>,nm-9,10.1.2.17,Originating,,Normal\n";
        FormatGuess g = sniffLines({historical.split('\n')[0].toStdString()});
        QCOMPARE(g.format, LogFormat::M365);
        // recipient_status holds commas: the export quotes it; unquoted it is a bad line.
        M365TraceParser p2;
        const QByteArray quoted = QByteArray(historical).replace("bob@corp.example##Receive, Deliver;dan@far.example##Receive, Fail",
                                                                 "\"bob@corp.example##Receive, Deliver;dan@far.example##Receive, Fail\"");
        const Parsed r2 = parse(p2, quoted);
        QCOMPARE(r2.copies.size(), std::size_t(1));
        QCOMPARE(deliveryOf(r2.copies[0], "bob@corp.example")->status, std::string("sent"));
        QCOMPARE(deliveryOf(r2.copies[0], "dan@far.example")->status, std::string("bounced"));
    }

    // ---- our own schema ----
    void genericCsvAndJsonl() {
        const QByteArray csv =
            "time;server;queue_id;message_id;sender;recipient;status;relay;queued_as;client_ip;size;subject;attachments\n"
            "2026-11-22T09:00:01Z;gw1;Q1;<g-1@corp.example>;alice@corp.example;;;;;10.1.2.17;900;Hello;\"a.vbs; b.txt\"\n"
            "2026-11-22T09:00:02Z;gw1;Q1;;;bob@corp.example;sent;;;;;;\n"
            "2026-11-22T09:00:02Z;gw1;Q1;;;dan@far.example;sent;mx.far.example;X9;;;;\n"
            "2026-11-22T09:00:03Z;gw1;;;spam@bad.example;bob@corp.example;rejected;;;203.0.113.9;;;\n"
            "yesterday;gw1;Q2;;;;;;;;;;\n"
            "2026-11-22T09:00:04Z;gw1;Q3;;;;;;;;big;;\n";
        QCOMPARE(sniffLines({csv.split('\n')[0].toStdString()}).format, LogFormat::Csv);
        GenericCsvParser p;
        const Parsed r = parse(p, csv);
        QCOMPARE(r.rejected, 2);
        QVERIFY(QString::fromStdString(r.reasons[0]).contains("neither ISO 8601 nor epoch"));
        QVERIFY(QString::fromStdString(r.reasons[1]).contains("not a number"));
        const CopyRecord* c = copyOf(r, "Q1");
        QVERIFY(c);
        QCOMPARE(c->attachments, (std::vector<std::string>{"a.vbs", "b.txt"}));
        QCOMPARE(deliveryOf(*c, "bob@corp.example")->transport, std::string("local"));
        QCOMPARE(deliveryOf(*c, "dan@far.example")->transport, std::string("smtp"));
        QCOMPARE(deliveryOf(*c, "dan@far.example")->queuedAs, std::string("X9"));
        QCOMPARE(r.rejects.size(), std::size_t(1));

        const QByteArray jsonl =
            "{\"time\":\"2026-11-22T09:00:01Z\",\"server\":\"gw2\",\"queue_id\":\"J1\",\"message_id\":\"g-2@corp.example\","
            "\"sender\":\"alice@corp.example\",\"attachments\":[\"x.vbs\"],\"recipients\":[\"bob@corp.example\","
            "{\"address\":\"dan@far.example\",\"status\":\"deferred\",\"relay\":\"mx.far.example\"}],\"status\":\"sent\"}\n"
            "{\"time\":1763802002,\"server\":\"gw2\",\"queue_id\":\"J1\",\"status\":\"removed\"}\n"
            "[1,2]\n";
        QCOMPARE(sniffLines({jsonl.split('\n')[0].toStdString()}).format, LogFormat::Jsonl);
        GenericJsonlParser j;
        const Parsed rj = parse(j, jsonl);
        QCOMPARE(rj.rejected, 1);
        const CopyRecord* cj = copyOf(rj, "J1");
        QVERIFY(cj && cj->removed);
        QCOMPARE(deliveryOf(*cj, "bob@corp.example")->status, std::string("sent"));
        QCOMPARE(deliveryOf(*cj, "dan@far.example")->status, std::string("deferred"));
        QCOMPARE(cj->attachments, std::vector<std::string>{"x.vbs"});
    }

    // ---- detection, forced formats, bad input ----
    void sniffing() {
        QCOMPARE(sniffLines({"1999-03-02 09:44:33 10HmaX-0005vi-00 <= CALLER@test.ex U=CALLER P=local S=sss"}).format,
                 LogFormat::Exim);
        QCOMPARE(sniffLines({"Nov 22 09:00:01 mx1 postfix/smtpd[12]: connect from x[1.2.3.4]"}).format, LogFormat::Postfix);
        QCOMPARE(sniffLines({"Nov 22 09:00:01 mx1 exim[12]: 1vAbCd-000123-Xy Completed"}).format, LogFormat::Exim);
        QCOMPARE(sniffLines({"just some text"}).format, LogFormat::Auto);
        const FormatGuess q = sniffLines({"Sep  6 07:18:29 sd6 qmail: 1157519909.633171 qmail-smtpd: 421 badiprbl"});
        QCOMPARE(q.format, LogFormat::Unsupported);
        QVERIFY(QString::fromStdString(q.reason).contains("qmail"));
        LogFormat f;
        QVERIFY(parseFormatName("EXIM", f) && f == LogFormat::Exim);
        QVERIFY(!parseFormatName("qmail", f));
        // Issue 15, item 7: Sendmail's syslog lines are read (with Postfix's), not refused.
        QVERIFY(parseFormatName("sendmail", f) && f == LogFormat::Postfix);
        QCOMPARE(sniffLines({"Nov 25 11:00:00 gw sendmail[500]: 0APB00aa000500: from=joe, size=812, class=0, nrcpts=1, "
                             "msgid=<a@gw>, relay=joe@localhost"})
                     .format,
                 LogFormat::Postfix);
    }
    // Item 8: Exim's refusals after DATA (the ACL, local_scan(), the non-SMTP ACL) are rejected
    // attempts like a refused RCPT: counted, never messages.
    void eximRejectsAfterData() {
        QFile f(QStringLiteral(MT_TEST_DATA "/exim/issue15_after_data.log"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        EximParser p;
        const Parsed r = parse(p, f.readAll());
        QCOMPARE(r.rejected, 0);
        QCOMPARE(r.rejects.size(), std::size_t(4));
        QCOMPARE(r.rejects[0].stage, std::string("DATA"));
        QCOMPARE(r.rejects[0].clientIp, std::string("203.0.113.30"));
        QCOMPARE(r.rejects[0].sender, std::string("spam@bot.example"));
        QVERIFY(r.rejects[0].reason.find("Eicar-Test-Signature") != std::string::npos);
        QCOMPARE(r.rejects[1].stage, std::string("DATA"));
        QVERIFY2(r.rejects[1].reason.find("local_scan") != std::string::npos, r.rejects[1].reason.c_str());
        QVERIFY(r.rejects[1].reason.find("Administrative prohibition") != std::string::npos);
        QCOMPARE(r.rejects[3].stage, std::string("RCPT"));
        QCOMPARE(r.copies.size(), std::size_t(1)); // only the message that arrived
        // The public corpus: every "rejected after DATA" / "rejected by local_scan()" line of
        // Exim's own test logs is one reject event (raw grep count against the parser's).
        const QString dir = kPublic + "/exim/exim-testsuite";
        if (!QFileInfo::exists(dir)) QSKIP("public corpus absent: set MAILTRIAGE_PUBLIC_DATA");
        qint64 raw = 0, counted = 0;
        QDirIterator it(dir, QDir::Files);
        while (it.hasNext()) {
            QFile log(it.next());
            QVERIFY(log.open(QIODevice::ReadOnly));
            const QByteArray all = log.readAll();
            for (const QByteArray& line : all.split('\n'))
                raw += line.contains("rejected after DATA") || line.contains("rejected by local_scan()");
            EximParser ep;
            for (const RejectRecord& rj : parse(ep, all).rejects)
                counted += rj.stage == "DATA" && rj.reason.rfind("by non-SMTP ACL", 0) != 0;
        }
        QVERIFY(raw > 20);
        QCOMPARE(counted, raw);
    }
    // Item 9: Zeek sessions without MAIL FROM are skipped (the README says so), not accepted.
    void zeekSessionsWithoutMailFromAreSkipped() {
        QFile f(QStringLiteral(MT_TEST_DATA "/zeek/issue15_no_mailfrom.log"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        ZeekSmtpParser p;
        const Parsed r = parse(p, f.readAll());
        QCOMPARE(r.rejected, 0);
        QCOMPARE(r.skipped, 3); // two sessions without MAIL FROM and the trailing empty line
        QCOMPARE(r.copies.size(), std::size_t(1));
        QCOMPARE(r.rejects.size(), std::size_t(0));
    }
    void forcedFormatAndWrongFile() {
        QTemporaryDir tmp;
        QByteArray junk;
        for (int i = 0; i < 1200; ++i) junk += "this is not a log line at all\n";
        writeFile(tmp.filePath("junk.log"), junk);
        CaseStore s;
        s.open(tmp.filePath("f.mtcase"));
        ImportOptions o;
        o.format = LogFormat::Exim;
        const ImportReport r = ImportJob(s, o).importLogs({tmp.filePath("junk.log")});
        QVERIFY(r.anyFailed());
        QVERIFY2(QString::fromStdString(r.files[0].error).startsWith("not a log in the exim format: line 1: no Exim timestamp"),
                 r.files[0].error.c_str());
        QCOMPARE(s.counts().copies, 0);
        QCOMPARE(s.counts().imports, 0); // rolled back: nothing of it kept
        // A bad line among good ones: reported with file, line and reason; the rest imported.
        QByteArray mixed = kEximMx1;
        mixed.insert(mixed.indexOf('\n') + 1, "garbage in the middle\n");
        writeFile(tmp.filePath("mx1/mainlog"), mixed);
        const ImportReport r2 = ImportJob(s, o).importLogs({tmp.filePath("mx1/mainlog")});
        QVERIFY(!r2.anyFailed());
        QCOMPARE(r2.files[0].issues.size(), std::size_t(1));
        QCOMPARE(r2.files[0].issues[0].line, std::int64_t(2));
        QCOMPARE(r2.files[0].issues[0].file, tmp.filePath("mx1/mainlog").toStdString());
        QCOMPARE(s.counts().copies, 1);
        QCOMPARE(scalar(s, "SELECT count(*) FROM import_issues WHERE line = 2"), 1);
    }

    void cliFormatOption() {
        const QString cli = QStringLiteral(MT_CLI_PATH);
        QVERIFY2(QFile::exists(cli), "build mailtriage-cli first");
        QTemporaryDir tmp;
        writeFile(tmp.filePath("a/mainlog"), kEximMx1);
        QProcess p;
        p.start(cli, {"import", "--case", tmp.filePath("c.mtcase"), "--format", "exim", "--server", "MX7", "--json",
                      tmp.filePath("a/mainlog")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const QByteArray out = p.readAllStandardOutput();
        QVERIFY2(out.contains("\"kind\":\"exim\""), out.constData());
        QVERIFY(out.contains("\"copies\":1"));
        {
            CaseStore s;
            s.open(tmp.filePath("c.mtcase"), false);
            QCOMPARE(text(s, "SELECT name FROM servers"), std::string("mx7"));
        }
        p.start(cli, {"import", "--case", tmp.filePath("c.mtcase"), "--format", "qmail", tmp.filePath("a/mainlog")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 2);
        MT_REQUIRE_PUBLIC_DATA(); // the rest reads the public corpus
        const QString qmail = kPublic + "/other/fail2ban_tests_logs_qmail";
        p.start(cli, {"import", "--case", tmp.filePath("c.mtcase"), qmail});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        QVERIFY(p.readAllStandardError().contains("syslog lines of qmail (4 lines): this MTA's format is not supported"));
    }

    // ---- public corpus ----
    void publicCorpusImports() {
        MT_REQUIRE_PUBLIC_DATA();
        QTemporaryDir tmp;
        CaseStore s;
        s.open(tmp.filePath("p.mtcase"));
        ImportOptions o;
        o.format = LogFormat::Auto;
        std::map<std::string, const FileReport*> byName;
        QStringList all;
        for (const char* dir : {"exim", "zeek", "exchange"}) {
            QDirIterator it(kPublic + "/" + dir, QDir::Files, QDirIterator::Subdirectories);
            while (it.hasNext()) all << it.next();
        }
        QVERIFY(all.size() > 800);
        const ImportReport r = ImportJob(s, o).importLogs(all);
        QCOMPARE(r.files.size(), static_cast<std::size_t>(all.size()));
        for (const auto& f : r.files) {
            QVERIFY2(f.ok, (f.figures.path + ": " + f.error).c_str());
            byName[QFileInfo(QString::fromStdString(f.figures.path)).fileName().toStdString()] = &f;
        }
        // Counts for several files.
        auto figures = [&](const char* name) { return byName.at(name)->figures; };
        QCOMPARE(figures("wrccdc2018_smtp.ndjson").lines, 1188);
        QCOMPARE(figures("wrccdc2018_smtp.ndjson").rejected, 0);
        QCOMPARE(figures("wrccdc2018_smtp.tsv.log").rejected, 0);
        QCOMPARE(byName.at("wrccdc2018_smtp.ndjson")->messages, byName.at("wrccdc2018_smtp.tsv.log")->messages);
        QCOMPARE(figures("beats_bom8_MSGTRK_exchange2010.log").kind, std::string("exchange"));
        QCOMPARE(figures("beats_bom8_MSGTRK_exchange2010.log").rejected, 0);
        QCOMPARE(byName.at("kinesis-agent-windows_ExchangeLogParserTest_MSGTRK_exchange2013.log")->messages, 2);
        QCOMPARE(figures("0005").kind, std::string("exim"));
        QCOMPARE(figures("0005").rejected, 0);
        QCOMPARE(byName.at("0005")->messages, 3);
        QCOMPARE(figures("scripts.base.protocols.smtp.basic.smtp.log").rejected, 2); // its ts are masked
        QVERIFY(s.counts().messages > 1000);
    }
    void otherMtasRefused() {
        MT_REQUIRE_PUBLIC_DATA();
        QTemporaryDir tmp;
        CaseStore s;
        s.open(tmp.filePath("o.mtcase"));
        ImportOptions o;
        o.format = LogFormat::Auto;
        const QStringList other = QDir(kPublic + "/other").entryList(QDir::Files);
        QCOMPARE(other.size(), 3);
        for (const QString& name : other) {
            const ImportReport r = ImportJob(s, o).importLogs({kPublic + "/other/" + name});
            QVERIFY(r.anyFailed());
            QVERIFY2(QString::fromStdString(r.files[0].error).contains("format is not supported"), r.files[0].error.c_str());
        }
        QCOMPARE(s.counts().imports, 0);
    }
    void sniffEveryPublicFile() {
        MT_REQUIRE_PUBLIC_DATA();
        const std::pair<const char*, LogFormat> dirs[] = {{"exim", LogFormat::Exim}, {"zeek", LogFormat::Zeek},
                                                          {"exchange", LogFormat::Exchange}};
        int n = 0;
        for (const auto& [dir, expected] : dirs) {
            QDirIterator it(kPublic + "/" + dir, QDir::Files, QDirIterator::Subdirectories);
            while (it.hasNext()) {
                const QString path = it.next();
                const FormatGuess g = sniffFile(path);
                QVERIFY2(g.format == expected, qPrintable(path + ": " + formatName(g.format) + " " + QString::fromStdString(g.reason)));
                ++n;
            }
        }
        QVERIFY(n > 800);
        QDirIterator pf(kPublic + "/postfix/lightmeter/individual_files", QDir::Files);
        while (pf.hasNext()) {
            const QString path = pf.next();
            const FormatGuess g = sniffFile(path);
            QVERIFY2(g.format == LogFormat::Postfix || g.format == LogFormat::Auto, qPrintable(path));
        }
    }
};

QTEST_GUILESS_MAIN(TestImporters)
#include "tst_importers.moc"
