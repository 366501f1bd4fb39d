#pragma once
// Simulated mail logs as a mail server would forward them over syslog: the lines of several
// log files merged in time order, and one line turned into an RFC 5424 message.
#include <QByteArray>
#include <QFile>
#include <QStringList>

#include "model/simulator/Simulator.h"

#include <algorithm>
#include <string>
#include <vector>

namespace mt::test {

// All lines of the files in time order (their RFC 3339 stamps sort as text).
inline std::vector<std::string> mergedLines(const QStringList& files) {
    std::vector<std::string> lines;
    for (const QString& f : files) {
        QFile in(f);
        if (!in.open(QIODevice::ReadOnly)) return {};
        while (!in.atEnd()) {
            QByteArray l = in.readLine();
            while (l.endsWith('\n')) l.chop(1);
            if (!l.isEmpty()) lines.push_back(l.toStdString());
        }
    }
    std::stable_sort(lines.begin(), lines.end(), [](const std::string& a, const std::string& b) { return a.compare(0, 32, b, 0, 32) < 0; });
    return lines;
}

// "STAMP HOST PROG[PID]: MSG" -> RFC 5424, as rsyslog would forward it.
inline QByteArray toRfc5424(const std::string& l) {
    const std::size_t h0 = l.find(' '), h1 = l.find(' ', h0 + 1), colon = l.find(": ", h1 + 1);
    std::string tag = l.substr(h1 + 1, colon - h1 - 1), app = tag, pid = "-";
    if (const std::size_t lb = tag.find('['); lb != std::string::npos) {
        app = tag.substr(0, lb);
        pid = tag.substr(lb + 1, tag.size() - lb - 2);
    }
    return QByteArray::fromStdString("<22>1 " + l.substr(0, h0) + " " + l.substr(h0 + 1, h1 - h0 - 1) + " " + app + " " + pid + " - - " +
                                     l.substr(colon + 2));
}

// The small outbreak the live tests replay: 120 users on 3 servers for 3 hours, ILOVEYOU,
// over 10,000 log lines.
inline sim::SimulationOptions smallOutbreak(const QString& outDir) {
    sim::SimulationOptions o;
    o.outDir = outDir;
    o.users = 120;
    o.servers = 3;
    o.hours = 3;
    o.seed = 11;
    return o;
}

} // namespace mt::test
