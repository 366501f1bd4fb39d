// gen_traffic_logs: large, realistic, deterministic traffic logs in the formats other than
// Postfix, for the import benchmark (bench_import_formats.sh).
//
//   gen_traffic_logs --format exim|zeek|zeek-json|exchange|m365|csv|jsonl --out DIR --bytes N
//                    [--servers K] [--seed S] [--users U]
//
// One organisation (corp.example, U users, each with a home server among mx1..mxK). A user
// submits a message on their home server (SMTP AUTH from their workstation); each recipient
// is delivered there, relayed to the recipient's home server (where the message appears again
// under that server's own id, joined by the reply "250 OK id=..." / "[InternalId=...]"), or
// sent to an external MX (some deferred, then delivered; some bounced). Around that, what such
// logs also carry: connections without mail, rejected relay attempts, TLS noise, queue runs
// (Exim); scanners and banner-only sessions (Zeek); NOTIFYMAPI, AGENTINFO and RESOLVE events
// (Exchange). Zeek gets a files.log for the attachments. The same arguments give the same bytes.
//
// Standard library only.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr const char* kVersion = "gen_traffic_logs 1";

struct Rng {
    std::uint64_t s;
    std::uint64_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
    bool chance(double p) { return static_cast<double>(next() % 1000000) < p * 1000000.0; }
};

const char* kSubjects[] = {"Quarterly figures",      "Re: meeting tomorrow", "Invoice 2026-11",   "Lunch?",
                           "Fwd: travel policy",     "Project status",       "Re: Re: the draft", "Holiday rota",
                           "Minutes of the meeting", "Customer complaint",   "Build failed",      "Welcome aboard"};
const char* kAttachments[] = {"report.pdf", "figures.xlsx", "photo.jpg", "minutes.docx", "invoice.pdf", "slides.pptx"};

std::string b62(std::uint64_t v, int width) {
    static const char* d = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string s(static_cast<std::size_t>(width), '0');
    for (int i = width - 1; i >= 0; --i) {
        s[static_cast<std::size_t>(i)] = d[v % 62];
        v /= 62;
    }
    return s;
}

// Exim's message id: time (base 62), pid, sub-second.
std::string eximId(std::int64_t ms, std::uint64_t pid) {
    return b62(static_cast<std::uint64_t>(ms / 1000), 6) + "-" + b62(pid, 6) + "-" + b62(static_cast<std::uint64_t>(ms % 1000) / 16, 2);
}

void stampExim(char* out, std::int64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::sprintf(out, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

void stampIso(char* out, std::int64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::sprintf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

struct Out {
    FILE* f = nullptr;
    std::uint64_t bytes = 0;
    void put(const char* s, std::size_t n) {
        std::fwrite(s, 1, n, f);
        bytes += n;
    }
    void put(const std::string& s) { put(s.data(), s.size()); }
};

struct Recipient {
    std::string address;
    int home = -1;       // server index for internal users, -1 external
    int fate = 0;        // external: 0 delivered, 1 deferred then delivered, 2 bounced
};

struct Message {
    std::int64_t t;
    std::string sender, messageId, subject, attachment;
    int senderHome;
    int workstation;
    long size;
    std::vector<Recipient> rcpts;
};

} // namespace

int main(int argc, char** argv) {
    std::string format, out;
    std::uint64_t bytes = 0, seed = 1;
    int servers = 4, users = 2400;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto val = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s wants a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--version") {
            std::puts(kVersion);
            return 0;
        }
        if (a == "--format") format = val();
        else if (a == "--out") out = val();
        else if (a == "--bytes") bytes = std::strtoull(val(), nullptr, 10);
        else if (a == "--servers") servers = std::atoi(val());
        else if (a == "--seed") seed = std::strtoull(val(), nullptr, 10);
        else if (a == "--users") users = std::atoi(val());
        else {
            std::fprintf(stderr, "usage: gen_traffic_logs --format F --out DIR --bytes N [--servers K] [--seed S] [--users U]\n");
            return 2;
        }
    }
    const bool exim = format == "exim", zeekTsv = format == "zeek", zeekJson = format == "zeek-json",
               exchange = format == "exchange", m365 = format == "m365", csv = format == "csv", jsonl = format == "jsonl";
    if (!(exim || zeekTsv || zeekJson || exchange || m365 || csv || jsonl) || out.empty() || bytes == 0 || servers < 1
        || users < 10) {
        std::fprintf(stderr, "gen_traffic_logs: need --format exim|zeek|zeek-json|exchange|m365|csv|jsonl, --out and --bytes\n");
        return 2;
    }
    std::filesystem::create_directories(out);
    Rng rng{seed * 0x9E3779B97F4A7C15ull + 12345};

    // One file per server (Exim, Exchange), else one file (plus files.log for Zeek).
    std::vector<Out> files(static_cast<std::size_t>(exim || exchange ? servers : 1));
    std::vector<std::unique_ptr<char[]>> buffers;
    for (std::size_t i = 0; i < files.size(); ++i) {
        std::string path;
        if (exim) {
            std::filesystem::create_directories(out + "/mx" + std::to_string(i + 1));
            path = out + "/mx" + std::to_string(i + 1) + "/mainlog";
        } else if (exchange) {
            path = out + "/MSGTRK20261122-" + std::to_string(i + 1) + ".LOG";
        } else {
            path = out + (zeekTsv ? "/smtp.log" : zeekJson ? "/smtp.json" : m365 ? "/MessageTrace.csv" : csv ? "/events.csv" : "/events.jsonl");
        }
        files[i].f = std::fopen(path.c_str(), "wb");
        if (!files[i].f) {
            std::perror(path.c_str());
            return 1;
        }
        buffers.emplace_back(new char[1 << 20]);
        std::setvbuf(files[i].f, buffers.back().get(), _IOFBF, 1 << 20);
    }
    Out filesLog;
    if (zeekTsv || zeekJson) {
        filesLog.f = std::fopen((out + (zeekTsv ? "/files.log" : "/files.json")).c_str(), "wb");
        if (!filesLog.f) return 1;
    }
    auto total = [&] {
        std::uint64_t n = filesLog.bytes;
        for (auto& f : files) n += f.bytes;
        return n;
    };
    char line[4096], ts[40], ts2[40];
    // Headers.
    const char* zeekFields =
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\thelo\tmailfrom\trcptto\tdate\tfrom\tto\tcc\t"
        "reply_to\tmsg_id\tin_reply_to\tsubject\tx_originating_ip\tfirst_received\tsecond_received\tlast_reply\tpath\t"
        "user_agent\ttls\tfuids\tis_webmail\n";
    if (zeekTsv) {
        files[0].put(std::string("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tsmtp\n"
                                 "#open\t2026-11-22-00-00-00\n") + zeekFields
                     + "#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tset[string]\tstring\tstring\t"
                       "set[string]\tset[string]\tstring\tstring\tstring\tstring\taddr\tstring\tstring\tstring\tvector[addr]\t"
                       "string\tbool\tvector[string]\tbool\n");
        filesLog.put(std::string("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tfiles\n"
                                 "#fields\tts\tfuid\tuid\tsource\tdepth\tanalyzers\tmime_type\tfilename\tduration\tis_orig\t"
                                 "seen_bytes\ttotal_bytes\n"));
    }
    if (exchange)
        for (auto& f : files)
            f.put(std::string("\xEF\xBB\xBF#Software: Microsoft Exchange Server\r\n#Version: 15.01.2507.006\r\n"
                              "#Log-type: Message Tracking Log\r\n#Date: 2026-11-22T00:00:00.000Z\r\n"
                              "#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,"
                              "connector-id,source,event-id,internal-message-id,message-id,network-message-id,"
                              "recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,"
                              "reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,"
                              "original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,"
                              "schema-version\r\n"));
    if (m365)
        files[0].put(std::string("\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"ToIP\","
                                 "\"FromIP\",\"Size\",\"MessageId\",\"MessageTraceId\",\"Index\"\r\n"));
    if (csv)
        files[0].put(std::string("time,server,queue_id,message_id,sender,recipient,status,transport,relay,queued_as,"
                                 "client_ip,sasl_user,size,subject,attachments\n"));

    std::int64_t t = 1795305600000LL; // 2026-11-22T00:00:00Z
    std::uint64_t messages = 0, serial = 0;
    std::vector<std::uint64_t> pids(static_cast<std::size_t>(servers), 4000);
    auto server = [&](int i) { return "mx" + std::to_string(i + 1) + ".corp.example"; };
    auto serverIp = [&](int i) { return "10.0.0." + std::to_string(i + 11); };
    auto user = [&](int u) {
        char b[40];
        std::sprintf(b, "user%04d@corp.example", u);
        return std::string(b);
    };
    while (total() < bytes) {
        t += 20 + rng.below(200);
        Message m;
        m.t = t;
        const int u = rng.below(users);
        m.sender = user(u);
        m.senderHome = u % servers;
        m.workstation = u;
        m.size = 2000 + rng.below(80000);
        m.subject = kSubjects[rng.below(12)];
        m.attachment = rng.chance(0.3) ? kAttachments[rng.below(6)] : "";
        char mid[80];
        std::sprintf(mid, "%" PRIu64 ".%d@ws%04d.corp.example", ++serial, rng.below(100000), u);
        m.messageId = mid;
        const int n = 1 + (rng.chance(0.3) ? rng.below(4) : 0);
        for (int i = 0; i < n; ++i) {
            Recipient r;
            if (rng.chance(0.7)) {
                const int v = rng.below(users);
                r.address = user(v);
                r.home = v % servers;
            } else {
                char b[60];
                std::sprintf(b, "contact%d@ext%d.example", rng.below(5000), rng.below(300));
                r.address = b;
                r.fate = rng.chance(0.05) ? 1 : rng.chance(0.02) ? 2 : 0;
            }
            m.rcpts.push_back(r);
        }
        ++messages;
        const std::string wsIp = "10.1." + std::to_string(m.workstation / 250) + "." + std::to_string(m.workstation % 250 + 1);

        if (exim) {
            Out& o = files[static_cast<std::size_t>(m.senderHome)];
            const std::uint64_t pid = ++pids[static_cast<std::size_t>(m.senderHome)];
            const std::string id = eximId(m.t, pid);
            stampExim(ts, m.t - 40);
            o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%" PRIu64 "] SMTP connection from ws%04d.corp.example [%s]:%d I=[%s]:587 (TCP/IP connection count = %d)\n",
                                                              ts, pid, m.workstation, wsIp.c_str(), 40000 + rng.below(20000), serverIp(m.senderHome).c_str(), 1 + rng.below(5))));
            stampExim(ts, m.t);
            o.put(line, static_cast<std::size_t>(std::sprintf(
                            line, "%s [%" PRIu64 "] %s <= %s H=ws%04d.corp.example (ws%04d) [%s]:%d I=[%s]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_plain:%s S=%ld id=%s T=\"%s\" for",
                            ts, pid, id.c_str(), m.sender.c_str(), m.workstation, m.workstation, wsIp.c_str(), 40000 + rng.below(20000),
                            serverIp(m.senderHome).c_str(), m.sender.c_str(), m.size, m.messageId.c_str(), m.subject.c_str())));
            for (const auto& r : m.rcpts) {
                o.put(" ", 1);
                o.put(r.address);
            }
            o.put("\n", 1);
            std::int64_t dt = m.t + 100 + rng.below(400);
            bool deferredLeft = false;
            for (const auto& r : m.rcpts) {
                stampExim(ts, dt);
                if (r.home == m.senderHome) {
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%" PRIu64 "] %s => %s R=local_user T=dovecot_lmtp H=localhost [127.0.0.1]:24 C=\"250 2.0.0 <%s> Saved\"\n",
                                                                      ts, pid + 1, id.c_str(), r.address.c_str(), r.address.c_str())));
                } else if (r.home >= 0) {
                    const std::uint64_t pid2 = ++pids[static_cast<std::size_t>(r.home)];
                    const std::string id2 = eximId(dt - 20, pid2);
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%" PRIu64 "] %s => %s R=internal T=remote_smtp H=%s [%s]:25 X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes K C=\"250 OK id=%s\"\n",
                                                                      ts, pid + 1, id.c_str(), r.address.c_str(), server(r.home).c_str(), serverIp(r.home).c_str(), id2.c_str())));
                    Out& o2 = files[static_cast<std::size_t>(r.home)];
                    stampExim(ts2, dt - 20);
                    o2.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%" PRIu64 "] %s <= %s H=%s [%s]:%d I=[%s]:25 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes S=%ld id=%s T=\"%s\"\n",
                                                                       ts2, pid2, id2.c_str(), m.sender.c_str(), server(m.senderHome).c_str(), serverIp(m.senderHome).c_str(), 30000 + rng.below(30000),
                                                                       serverIp(r.home).c_str(), m.size + 600, m.messageId.c_str(), m.subject.c_str())));
                    stampExim(ts2, dt + 60);
                    o2.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%" PRIu64 "] %s => %s R=local_user T=dovecot_lmtp H=localhost [127.0.0.1]:24 C=\"250 2.0.0 <%s> Saved\"\n%s [%" PRIu64 "] %s Completed\n",
                                                                       ts2, pid2 + 1, id2.c_str(), r.address.c_str(), r.address.c_str(), ts2, pid2 + 1, id2.c_str())));
                } else if (r.fate == 2) {
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%" PRIu64 "] %s ** %s R=dnslookup T=remote_smtp H=mx.%s [192.0.2.%d]: SMTP error from remote mail server after RCPT TO:<%s>: 550 5.1.1 <%s>: Recipient address rejected: User unknown\n",
                                                                      ts, pid + 1, id.c_str(), r.address.c_str(), r.address.c_str() + r.address.find('@') + 1, 1 + rng.below(250), r.address.c_str(), r.address.c_str())));
                } else {
                    if (r.fate == 1) {
                        o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%" PRIu64 "] %s == %s R=dnslookup T=remote_smtp defer (-44) H=mx.%s [192.0.2.%d]: SMTP error from remote mail server after RCPT TO:<%s>: 451 4.7.1 Greylisted, try again later\n",
                                                                          ts, pid + 1, id.c_str(), r.address.c_str(), r.address.c_str() + r.address.find('@') + 1, 1 + rng.below(250), r.address.c_str())));
                        deferredLeft = true;
                        stampExim(ts, dt + 300000);
                    }
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%" PRIu64 "] %s => %s R=dnslookup T=remote_smtp H=mx.%s [192.0.2.%d]:25 X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=yes C=\"250 2.0.0 Ok: queued as %" PRIX64 "\"\n",
                                                                      ts, pid + 1, id.c_str(), r.address.c_str(), r.address.c_str() + r.address.find('@') + 1, 1 + rng.below(250), static_cast<std::uint64_t>(rng.next() & 0xFFFFFFFFFFull))));
                }
                dt += 5 + rng.below(50);
            }
            stampExim(ts, deferredLeft ? dt + 300000 : dt);
            o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%" PRIu64 "] %s Completed\n", ts, pid + 1, id.c_str())));
            // Noise on a random server.
            Out& n = files[static_cast<std::size_t>(rng.below(servers))];
            stampExim(ts, m.t + 7);
            const int k = rng.below(10);
            if (k < 2)
                n.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%d] H=(User) [203.0.113.%d]:%d I=[10.0.0.11]:25 F=<spam%d@bulk.example> rejected RCPT <%s>: relay not permitted\n",
                                                                  ts, 9000 + k, 1 + rng.below(250), 1024 + rng.below(60000), rng.below(999), m.rcpts[0].address.c_str())));
            else if (k < 4)
                n.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%d] no host name found for IP address 198.51.100.%d\n", ts, 9000 + k, 1 + rng.below(250))));
            else if (k < 5)
                n.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%d] TLS error on connection from (scanner) [198.51.100.%d]:%d I=[10.0.0.11]:25 (SSL_accept): error:0A00006C:SSL routines::bad key share\n",
                                                                  ts, 9000 + k, 1 + rng.below(250), 1024 + rng.below(60000))));
            else if (k < 6)
                n.put(line, static_cast<std::size_t>(std::sprintf(line, "%s [%d] Start queue run: pid=%d\n%s [%d] End queue run: pid=%d\n", ts, 9000 + k, 9000 + k, ts, 9000 + k, 9000 + k)));
        } else if (zeekTsv || zeekJson) {
            // The sensor sees the submission, the relays between servers and the outbound sessions.
            Out& o = files[0];
            std::string fuid;
            if (!m.attachment.empty()) {
                fuid = "F" + b62(rng.next(), 17);
                std::sprintf(ts, "%" PRId64 ".%06d", m.t / 1000, static_cast<int>(m.t % 1000) * 1000);
                if (zeekTsv)
                    filesLog.put(line, static_cast<std::size_t>(std::sprintf(line, "%s\t%s\tC%s\tSMTP\t3\t(empty)\tapplication/octet-stream\t%s\t0.001\tT\t%ld\t-\n",
                                                                             ts, fuid.c_str(), b62(serial, 16).c_str(), m.attachment.c_str(), m.size / 2)));
                else
                    filesLog.put(line, static_cast<std::size_t>(std::sprintf(line, "{\"ts\":%s,\"fuid\":\"%s\",\"uid\":\"C%s\",\"source\":\"SMTP\",\"depth\":3,\"mime_type\":\"application/octet-stream\",\"filename\":\"%s\",\"is_orig\":true,\"seen_bytes\":%ld}\n",
                                                                             ts, fuid.c_str(), b62(serial, 16).c_str(), m.attachment.c_str(), m.size / 2)));
            }
            auto session = [&](std::int64_t when, const std::string& origIp, const std::string& respIp, int port,
                               const std::vector<const Recipient*>& rcpts, const std::string& reply) {
                std::sprintf(ts, "%" PRId64 ".%06d", when / 1000, static_cast<int>(when % 1000) * 1000);
                const std::string uid = "C" + b62(rng.next(), 17);
                std::string rc;
                for (const auto* r : rcpts) rc += (rc.empty() ? "" : zeekTsv ? "," : "\",\"") + r->address;
                const std::string fu = fuid.empty() ? (zeekTsv ? "(empty)" : "") : fuid;
                if (zeekTsv)
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s\t%s\t%s\t%d\t%s\t%d\t1\tws%04d\t%s\t%s\tSun, 22 Nov 2026 09:00:00 +0000\t%s\t%s\t-\t-\t<%s>\t-\t%s\t-\t-\t-\t%s\t%s,%s\tMozilla/5.0 Thunderbird/115.5\tT\t%s\tF\n",
                                                                      ts, uid.c_str(), origIp.c_str(), 30000 + rng.below(30000), respIp.c_str(), port, m.workstation, m.sender.c_str(), rc.c_str(), m.sender.c_str(), rcpts[0]->address.c_str(), m.messageId.c_str(), m.subject.c_str(), reply.c_str(), respIp.c_str(), origIp.c_str(), fu.c_str())));
                else
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "{\"ts\":%s,\"uid\":\"%s\",\"id.orig_h\":\"%s\",\"id.orig_p\":%d,\"id.resp_h\":\"%s\",\"id.resp_p\":%d,\"trans_depth\":1,\"helo\":\"ws%04d\",\"mailfrom\":\"%s\",\"rcptto\":[\"%s\"],\"date\":\"Sun, 22 Nov 2026 09:00:00 +0000\",\"from\":\"%s\",\"to\":[\"%s\"],\"msg_id\":\"<%s>\",\"subject\":\"%s\",\"last_reply\":\"%s\",\"path\":[\"%s\",\"%s\"],\"user_agent\":\"Mozilla/5.0 Thunderbird/115.5\",\"tls\":true,\"fuids\":[%s%s%s],\"is_webmail\":false}\n",
                                                                      ts, uid.c_str(), origIp.c_str(), 30000 + rng.below(30000), respIp.c_str(), port, m.workstation, m.sender.c_str(), rc.c_str(), m.sender.c_str(), rcpts[0]->address.c_str(), m.messageId.c_str(), m.subject.c_str(), reply.c_str(), respIp.c_str(), origIp.c_str(), fu.empty() ? "" : "\"", fu.c_str(), fu.empty() ? "" : "\"")));
            };
            std::vector<const Recipient*> all;
            for (const auto& r : m.rcpts) all.push_back(&r);
            const std::string id1 = eximId(m.t, ++pids[static_cast<std::size_t>(m.senderHome)]);
            session(m.t, wsIp, serverIp(m.senderHome), 587, all, "250 OK id=" + id1);
            std::int64_t dt = m.t + 200;
            for (const auto& r : m.rcpts) {
                if (r.home == m.senderHome) continue;
                if (r.home >= 0) session(dt, serverIp(m.senderHome), serverIp(r.home), 25, {&r}, "250 OK id=" + eximId(dt, ++pids[static_cast<std::size_t>(r.home)]));
                else session(dt, serverIp(m.senderHome), "192.0.2." + std::to_string(1 + rng.below(250)), 25, {&r},
                             r.fate == 2 ? "550 5.1.1 User unknown" : r.fate == 1 ? "451 4.7.1 Greylisted" : "250 2.0.0 Ok: queued as 4F2A61C0B1");
                dt += 30;
            }
            if (rng.chance(0.3)) { // a scanner's banner-only session
                std::sprintf(ts, "%" PRId64 ".%06d", (m.t + 3) / 1000, static_cast<int>((m.t + 3) % 1000) * 1000);
                const std::string uid = "C" + b62(rng.next(), 17);
                if (zeekTsv)
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s\t%s\t198.51.100.%d\t%d\t10.0.0.11\t25\t1\tscanner\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t220 mx1.corp.example ESMTP\t10.0.0.11,198.51.100.7\t-\tF\t(empty)\tF\n",
                                                                      ts, uid.c_str(), 1 + rng.below(250), 1024 + rng.below(60000))));
                else
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "{\"ts\":%s,\"uid\":\"%s\",\"id.orig_h\":\"198.51.100.%d\",\"id.orig_p\":%d,\"id.resp_h\":\"10.0.0.11\",\"id.resp_p\":25,\"trans_depth\":1,\"helo\":\"scanner\",\"last_reply\":\"220 mx1.corp.example ESMTP\",\"path\":[\"10.0.0.11\",\"198.51.100.7\"],\"tls\":false,\"fuids\":[],\"is_webmail\":false}\n",
                                                                      ts, uid.c_str(), 1 + rng.below(250), 1024 + rng.below(60000))));
            }
        } else if (exchange) {
            // RECEIVE on the home server, AGENTINFO, DELIVER locally, SEND to other servers
            // (their RECEIVE + DELIVER) and out; noise: NOTIFYMAPI and RESOLVE.
            const std::uint64_t iid = 100000000000ull + serial * 10;
            Out& o = files[static_cast<std::size_t>(m.senderHome)];
            const std::string host = "MX" + std::to_string(m.senderHome + 1);
            std::string all;
            for (const auto& r : m.rcpts) all += (all.empty() ? "" : ";") + r.address;
            char nmid[40];
            std::sprintf(nmid, "%08" PRIx64 "-aaaa-bbbb-cccc-%012" PRIx64, serial, static_cast<std::uint64_t>(rng.next() & 0xFFFFFFFFFFFFull));
            stampIso(ts, m.t);
            o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s,%s,ws%04d,%s,%s,08DB0A1B2C3D4E5F;250 2.6.0 <%s> Queued mail for delivery,%s\\Client Proxy %s,SMTP,RECEIVE,%" PRIu64 ",<%s>,%s,%s,,%ld,%zu,,,\"%s\",%s,%s,,Originating,,%s,%s,S:DeliveryPriority=Normal;S:AccountForest=corp.example,Email,%s,15.01.2507.006\r\n",
                                                              ts, wsIp.c_str(), m.workstation, serverIp(m.senderHome).c_str(), host.c_str(), m.messageId.c_str(), host.c_str(), host.c_str(), iid, m.messageId.c_str(), nmid, all.c_str(), m.size, m.rcpts.size(), m.subject.c_str(), m.sender.c_str(), m.sender.c_str(), wsIp.c_str(), serverIp(m.senderHome).c_str(), nmid)));
            stampIso(ts, m.t + 15);
            o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s,,%s,,,Transport Rule Agent,,AGENT,AGENTINFO,%" PRIu64 ",<%s>,%s,%s,,%ld,%zu,,,\"%s\",%s,%s,,Originating,,%s,%s,S:AMA=SUM|action=p|error=|atch=%d;S:TRA=ETRP|ruleId=00000000-0000-0000-0000-000000000000;S:DeliveryPriority=Normal,Email,%s,15.01.2507.006\r\n",
                                                              ts, host.c_str(), iid, m.messageId.c_str(), nmid, all.c_str(), m.size, m.rcpts.size(), m.subject.c_str(), m.sender.c_str(), m.sender.c_str(), wsIp.c_str(), serverIp(m.senderHome).c_str(), m.attachment.empty() ? 0 : 1, nmid)));
            std::int64_t dt = m.t + 300;
            for (const auto& r : m.rcpts) {
                stampIso(ts, dt);
                if (r.home == m.senderHome) {
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s,%s,%s,,%s,MDB:4d2a3c1e-0000-0000-0000-000000000001;Mailbox:0000;Event:%d;MessageClass:IPM.Note;CreationTime:%s;ClientType:StoreDriver,,STOREDRIVER,DELIVER,%" PRIu64 ",<%s>,%s,%s,,%ld,1,,,\"%s\",%s,%s,,Originating,,%s,%s,,Email,%s,15.01.2507.006\r\n",
                                                                      ts, serverIp(m.senderHome).c_str(), host.c_str(), host.c_str(), rng.below(1000000), ts, iid, m.messageId.c_str(), nmid, r.address.c_str(), m.size, m.subject.c_str(), m.sender.c_str(), m.sender.c_str(), wsIp.c_str(), serverIp(m.senderHome).c_str(), nmid)));
                } else if (r.home >= 0) {
                    const std::string host2 = "MX" + std::to_string(r.home + 1);
                    const std::uint64_t iid2 = iid + 1 + static_cast<std::uint64_t>(r.home);
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s,%s,%s,%s,%s,\"250 2.6.0 <%s> [InternalId=%" PRIu64 ", Hostname=%s.corp.example] Queued mail for delivery\",Intra-Organization SMTP Send Connector,SMTP,SEND,%" PRIu64 ",<%s>,%s,%s,250 2.1.5 Recipient OK,%ld,1,,,\"%s\",%s,%s,,Originating,,%s,%s,,Email,%s,15.01.2507.006\r\n",
                                                                      ts, serverIp(m.senderHome).c_str(), host.c_str(), serverIp(r.home).c_str(), host2.c_str(), m.messageId.c_str(), iid2, host2.c_str(), iid, m.messageId.c_str(), nmid, r.address.c_str(), m.size, m.subject.c_str(), m.sender.c_str(), m.sender.c_str(), wsIp.c_str(), serverIp(m.senderHome).c_str(), nmid)));
                    Out& o2 = files[static_cast<std::size_t>(r.home)];
                    stampIso(ts2, dt + 40);
                    o2.put(line, static_cast<std::size_t>(std::sprintf(line, "%s,%s,%s,%s,%s,08DB0A1B2C3D4E5F;250 2.6.0 <%s> Queued mail for delivery,%s\\Default %s,SMTP,RECEIVE,%" PRIu64 ",<%s>,%s,%s,,%ld,1,,,\"%s\",%s,%s,,Originating,,%s,%s,,Email,%s,15.01.2507.006\r\n",
                                                                       ts2, serverIp(m.senderHome).c_str(), host.c_str(), serverIp(r.home).c_str(), host2.c_str(), m.messageId.c_str(), host2.c_str(), host2.c_str(), iid2, m.messageId.c_str(), nmid, r.address.c_str(), m.size + 400, m.subject.c_str(), m.sender.c_str(), m.sender.c_str(), wsIp.c_str(), serverIp(m.senderHome).c_str(), nmid)));
                    stampIso(ts2, dt + 90);
                    o2.put(line, static_cast<std::size_t>(std::sprintf(line, "%s,%s,%s,,%s,MDB:4d2a3c1e-0000-0000-0000-000000000002;Mailbox:0000;Event:%d;MessageClass:IPM.Note;ClientType:StoreDriver,,STOREDRIVER,DELIVER,%" PRIu64 ",<%s>,%s,%s,,%ld,1,,,\"%s\",%s,%s,,Originating,,%s,%s,,Email,%s,15.01.2507.006\r\n",
                                                                       ts2, serverIp(r.home).c_str(), host2.c_str(), host2.c_str(), rng.below(1000000), iid2, m.messageId.c_str(), nmid, r.address.c_str(), m.size + 400, m.subject.c_str(), m.sender.c_str(), m.sender.c_str(), wsIp.c_str(), serverIp(m.senderHome).c_str(), nmid)));
                } else if (r.fate == 2) {
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s,,,%s,%s,,Internet Send Connector,SMTP,FAIL,%" PRIu64 ",<%s>,%s,%s,550 5.1.1 User unknown,%ld,1,,,\"%s\",%s,%s,,Originating,,%s,%s,,Email,%s,15.01.2507.006\r\n",
                                                                      ts, serverIp(m.senderHome).c_str(), host.c_str(), iid, m.messageId.c_str(), nmid, r.address.c_str(), m.size, m.subject.c_str(), m.sender.c_str(), m.sender.c_str(), wsIp.c_str(), serverIp(m.senderHome).c_str(), nmid)));
                } else {
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s,%s,%s,192.0.2.%d,mx.%s,\"250 2.0.0 Ok: queued as 4F2A61C0B1\",Internet Send Connector,SMTP,SEND,%" PRIu64 ",<%s>,%s,%s,250 2.1.5 Ok,%ld,1,,,\"%s\",%s,%s,,Originating,,%s,%s,,Email,%s,15.01.2507.006\r\n",
                                                                      ts, serverIp(m.senderHome).c_str(), host.c_str(), 1 + rng.below(250), r.address.c_str() + r.address.find('@') + 1, iid, m.messageId.c_str(), nmid, r.address.c_str(), m.size, m.subject.c_str(), m.sender.c_str(), m.sender.c_str(), wsIp.c_str(), serverIp(m.senderHome).c_str(), nmid)));
                }
                dt += 50;
            }
            if (rng.chance(0.5)) {
                stampIso(ts, m.t + 5);
                o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s,,,,,\"MDB:61914740-3f1b-4ddb-94e0-557196870cfa, Mailbox:279f077c-216f-4323-a9ee-48e50ffd3cad, Event:%d, MessageClass:IPM.Note, CreationTime:%s, ClientType:MOMT\",,STOREDRIVER,NOTIFYMAPI,,,,,,,,,,,,,,,,,,S:ItemEntryId=00-00-00-00-37-DB-F9-F9-B5-F2-42-4F-86-62,,,\r\n",
                                                                  ts, rng.below(100000000), ts)));
            }
        } else if (m365) {
            Out& o = files[0];
            stampIso(ts, m.t);
            char trace[40];
            std::sprintf(trace, "%08" PRIx64 "-1111-2222-3333-%012" PRIx64, serial, static_cast<std::uint64_t>(rng.next() & 0xFFFFFFFFFFFFull));
            int index = 0;
            for (const auto& r : m.rcpts) {
                const char* status = r.home >= 0 ? "Delivered" : r.fate == 2 ? "Failed" : r.fate == 1 ? "Pending" : "Delivered";
                const std::string toIp = r.home >= 0 ? "" : "192.0.2." + std::to_string(1 + rng.below(250));
                o.put(line, static_cast<std::size_t>(std::sprintf(line, "\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%ld\",\"<%s>\",\"%s\",\"%d\"\r\n",
                                                                  ts, m.sender.c_str(), r.address.c_str(), m.subject.c_str(), status, toIp.c_str(), wsIp.c_str(), m.size, m.messageId.c_str(), trace, index++)));
            }
        } else {
            // Our schema: the received event, then one event per recipient (and the relays'
            // copies on the recipients' home servers).
            Out& o = files[0];
            const std::string q = b62(serial, 10);
            stampIso(ts, m.t);
            const std::string host = "mx" + std::to_string(m.senderHome + 1);
            if (csv)
                o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s,%s,%s,<%s>,%s,,,,,,%s,%s,%ld,%s,%s\n", ts, host.c_str(), q.c_str(), m.messageId.c_str(), m.sender.c_str(), wsIp.c_str(), m.sender.c_str(), m.size, m.subject.c_str(), m.attachment.c_str())));
            else
                o.put(line, static_cast<std::size_t>(std::sprintf(line, "{\"time\":\"%s\",\"server\":\"%s\",\"queue_id\":\"%s\",\"message_id\":\"%s\",\"sender\":\"%s\",\"client_ip\":\"%s\",\"sasl_user\":\"%s\",\"size\":%ld,\"subject\":\"%s\",\"attachments\":[%s%s%s]}\n",
                                                                  ts, host.c_str(), q.c_str(), m.messageId.c_str(), m.sender.c_str(), wsIp.c_str(), m.sender.c_str(), m.size, m.subject.c_str(), m.attachment.empty() ? "" : "\"", m.attachment.c_str(), m.attachment.empty() ? "" : "\"")));
            std::int64_t dt = m.t + 200;
            for (const auto& r : m.rcpts) {
                stampIso(ts, dt);
                std::string status = "sent", transport = "lmtp", relay, queuedAs;
                if (r.home >= 0 && r.home != m.senderHome) {
                    transport = "smtp";
                    relay = "mx" + std::to_string(r.home + 1);
                    queuedAs = "R" + b62(serial * 7 + static_cast<std::uint64_t>(r.home), 9);
                } else if (r.home < 0) {
                    transport = "smtp";
                    relay = "mx." + r.address.substr(r.address.find('@') + 1);
                    status = r.fate == 2 ? "bounced" : r.fate == 1 ? "deferred" : "sent";
                }
                if (csv)
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s,%s,%s,,,%s,%s,%s,%s,%s,,,,,\n", ts, host.c_str(), q.c_str(), r.address.c_str(), status.c_str(), transport.c_str(), relay.c_str(), queuedAs.c_str())));
                else
                    o.put(line, static_cast<std::size_t>(std::sprintf(line, "{\"time\":\"%s\",\"server\":\"%s\",\"queue_id\":\"%s\",\"recipient\":\"%s\",\"status\":\"%s\",\"transport\":\"%s\",\"relay\":\"%s\",\"queued_as\":\"%s\"}\n",
                                                                      ts, host.c_str(), q.c_str(), r.address.c_str(), status.c_str(), transport.c_str(), relay.c_str(), queuedAs.c_str())));
                if (!queuedAs.empty()) {
                    stampIso(ts2, dt + 30);
                    if (csv)
                        o.put(line, static_cast<std::size_t>(std::sprintf(line, "%s,%s,%s,<%s>,%s,%s,sent,lmtp,,,%s,,%ld,%s,%s\n", ts2, relay.c_str(), queuedAs.c_str(), m.messageId.c_str(), m.sender.c_str(), r.address.c_str(), serverIp(m.senderHome).c_str(), m.size + 500, m.subject.c_str(), m.attachment.c_str())));
                    else
                        o.put(line, static_cast<std::size_t>(std::sprintf(line, "{\"time\":\"%s\",\"server\":\"%s\",\"queue_id\":\"%s\",\"message_id\":\"%s\",\"sender\":\"%s\",\"client_ip\":\"%s\",\"size\":%ld,\"subject\":\"%s\",\"recipients\":[{\"address\":\"%s\",\"status\":\"sent\",\"transport\":\"lmtp\"}]}\n",
                                                                          ts2, relay.c_str(), queuedAs.c_str(), m.messageId.c_str(), m.sender.c_str(), serverIp(m.senderHome).c_str(), m.size + 500, m.subject.c_str(), r.address.c_str())));
                }
                dt += 40;
            }
        }
    }
    for (auto& f : files) std::fclose(f.f);
    if (filesLog.f) std::fclose(filesLog.f);
    std::fprintf(stderr, "%s: %" PRIu64 " messages, %" PRIu64 " bytes in %s\n", format.c_str(), messages, total(), out.c_str());
    return 0;
}
