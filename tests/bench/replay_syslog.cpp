// Replays Postfix logs (e.g. from `mailtriage-cli simulate`) over syslog at a given rate, as
// mail servers forwarding their logs would (rsyslog omfwd): the files are merged in time
// order, each line becomes an RFC 5424 or RFC 3164 message, sent over UDP or TCP (octet
// counting or LF framing). Stamps stay the log's (default) or become the send time (--stamp
// now: a "live" replay, which compresses the day into the replay's duration).
//
//   replay_syslog --host 127.0.0.1 --port 5514 [--tcp [--framing octet|lf]] [--format 5424|3164]
//                 [--rate LINES_PER_S] [--duration SEC] [--max-lines N] [--stamp log|now]
//                 [--sent-log FILE] LOG...
//
// --sent-log writes "log_ms wall_ms" for every line sent (the benchmark's latency reference).
// Prints one summary line: lines sent, seconds, achieved rate.
#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <queue>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

long long wallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "2026-11-24T08:01:06.027242+00:00" -> ms since epoch (UTC offset honoured); -1 if not RFC 3339.
long long stampMs(const std::string& line) {
    if (line.size() < 20 || line[4] != '-' || line[10] != 'T') return -1;
    std::tm tm{};
    tm.tm_year = std::atoi(line.substr(0, 4).c_str()) - 1900;
    tm.tm_mon = std::atoi(line.substr(5, 2).c_str()) - 1;
    tm.tm_mday = std::atoi(line.substr(8, 2).c_str());
    tm.tm_hour = std::atoi(line.substr(11, 2).c_str());
    tm.tm_min = std::atoi(line.substr(14, 2).c_str());
    tm.tm_sec = std::atoi(line.substr(17, 2).c_str());
    long long ms = static_cast<long long>(timegm(&tm)) * 1000;
    std::size_t p = 19;
    if (p < line.size() && line[p] == '.') {
        int digits = 0, frac = 0;
        for (++p; p < line.size() && isdigit(static_cast<unsigned char>(line[p])); ++p)
            if (digits < 3) frac = frac * 10 + (line[p] - '0'), ++digits;
        while (digits < 3) frac *= 10, ++digits;
        ms += frac;
    }
    if (p + 6 <= line.size() && (line[p] == '+' || line[p] == '-')) {
        const int off = std::atoi(line.substr(p + 1, 2).c_str()) * 60 + std::atoi(line.substr(p + 4, 2).c_str());
        ms -= (line[p] == '+' ? 1 : -1) * off * 60000LL;
    }
    return ms;
}

std::string rfc3339(long long ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lld+00:00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
    return buf;
}

std::string classic(long long ms) {
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s %2d %02d:%02d:%02d", months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

struct Source {
    std::ifstream in;
    std::string line;
    long long t = 0;
    bool next() {
        while (std::getline(in, line)) {
            t = stampMs(line);
            if (t >= 0) return true;
        }
        return false;
    }
};

void usage() {
    std::cerr << "usage: replay_syslog --host H --port P [--tcp [--framing octet|lf]] [--format 5424|3164] [--rate N]\n"
                 "                     [--duration SEC] [--max-lines N] [--stamp log|now] [--sent-log FILE] LOG...\n";
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1", framing = "octet", format = "5424", stamp = "log", sentLog;
    int port = 0;
    bool tcp = false;
    double rate = 2000, duration = 0;
    long long maxLines = 0;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--host") host = val();
        else if (a == "--port") port = std::atoi(val().c_str());
        else if (a == "--tcp") tcp = true;
        else if (a == "--framing") framing = val();
        else if (a == "--format") format = val();
        else if (a == "--rate") rate = std::atof(val().c_str());
        else if (a == "--duration") duration = std::atof(val().c_str());
        else if (a == "--max-lines") maxLines = std::atoll(val().c_str());
        else if (a == "--stamp") stamp = val();
        else if (a == "--sent-log") sentLog = val();
        else if (!a.empty() && a[0] == '-') usage();
        else files.push_back(a);
    }
    if (port <= 0 || files.empty() || rate <= 0 || (format != "5424" && format != "3164") || (framing != "octet" && framing != "lf"))
        usage();

    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) {
        std::cerr << "replay_syslog: cannot resolve " << host << "\n";
        return 1;
    }
    const int fd = socket(res->ai_family, res->ai_socktype, 0);
    if (fd < 0 || (tcp && connect(fd, res->ai_addr, res->ai_addrlen) != 0)) {
        std::perror("replay_syslog: connect");
        return 1;
    }
    if (tcp) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }

    std::vector<std::unique_ptr<Source>> sources;
    for (const std::string& f : files) {
        auto s = std::make_unique<Source>();
        s->in.open(f);
        if (!s->in) {
            std::cerr << "replay_syslog: cannot read " << f << "\n";
            return 1;
        }
        if (s->next()) sources.push_back(std::move(s));
    }
    auto later = [&](std::size_t a, std::size_t b) { return sources[a]->t > sources[b]->t; };
    std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> heap(later);
    for (std::size_t i = 0; i < sources.size(); ++i) heap.push(i);

    std::ofstream sent;
    if (!sentLog.empty()) sent.open(sentLog);
    const long long start = wallMs();
    long long count = 0;
    std::string msg, framed;
    while (!heap.empty()) {
        const long long elapsed = wallMs() - start;
        if (duration > 0 && elapsed >= duration * 1000) break;
        const long long due = static_cast<long long>(rate * static_cast<double>(elapsed) / 1000.0) + 1;
        if (count >= due) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            continue;
        }
        const std::size_t k = heap.top();
        heap.pop();
        Source& s = *sources[k];
        // "STAMP HOST TAG: MSG" -> fields.
        const std::string& l = s.line;
        const std::size_t h0 = l.find(' ');
        const std::size_t h1 = h0 == std::string::npos ? h0 : l.find(' ', h0 + 1);
        const std::size_t colon = h1 == std::string::npos ? h1 : l.find(": ", h1 + 1);
        const long long now = wallMs();
        const long long t = stamp == "now" ? now : s.t;
        if (colon != std::string::npos) {
            const std::string hostName = l.substr(h0 + 1, h1 - h0 - 1);
            std::string tag = l.substr(h1 + 1, colon - h1 - 1);
            const std::string body = l.substr(colon + 2);
            if (format == "5424") {
                std::string app = tag, pid = "-";
                if (const std::size_t lb = tag.find('['); lb != std::string::npos) {
                    app = tag.substr(0, lb);
                    pid = tag.substr(lb + 1, tag.size() - lb - 2);
                }
                msg = "<22>1 " + rfc3339(t) + " " + hostName + " " + app + " " + pid + " - - " + body;
            } else {
                msg = "<22>" + classic(t) + " " + hostName + " " + tag + ": " + body;
            }
            if (tcp) {
                framed = framing == "octet" ? std::to_string(msg.size()) + " " + msg : msg + "\n";
                std::size_t off = 0;
                while (off < framed.size()) {
                    const ssize_t n = ::send(fd, framed.data() + off, framed.size() - off, MSG_NOSIGNAL);
                    if (n <= 0) {
                        std::perror("replay_syslog: send");
                        return 1;
                    }
                    off += static_cast<std::size_t>(n);
                }
            } else if (::sendto(fd, msg.data(), msg.size(), 0, res->ai_addr, res->ai_addrlen) < 0) {
                std::perror("replay_syslog: sendto");
            }
            if (sent) sent << s.t << ' ' << now << '\n';
            ++count;
        }
        if (s.next()) heap.push(k);
        if (maxLines && count >= maxLines) break;
    }
    const double secs = static_cast<double>(wallMs() - start) / 1000.0;
    std::printf("replay_syslog: sent %lld lines in %.1f s (%.0f lines/s) over %s\n", count, secs, secs > 0 ? count / secs : 0.0,
                tcp ? "tcp" : "udp");
    freeaddrinfo(res);
    ::close(fd);
    return 0;
}
