#pragma once
// Receives syslog from the mail servers (rsyslog omfwd, syslog-ng): UDP (RFC 5426), TCP with
// octet counting or LF framing (RFC 6587) and, optionally, TLS (RFC 5425, QSslServer).
// Messages (RFC 5424 or RFC 3164) become log lines in a LineQueue. Only senders on the allow
// list are heard (addresses, CIDR subnets or host names resolved when listening starts; an
// empty list allows loopback only). Bad input never stops it: malformed and oversized
// messages, refused peers and peers that disconnect mid-message are counted.
#include "LineQueue.h"

#include <QHostAddress>
#include <QObject>
#include <QStringList>

#include <atomic>
#include <memory>

class QTcpServer;
class QTcpSocket;
class QUdpSocket;

namespace mt::live {

struct ListenerConfig {
    QHostAddress bind = QHostAddress::Any;
    int udpPort = -1;             // -1: off; 0: any free port (tests)
    int tcpPort = -1;
    int tlsPort = -1;
    QString certificateFile, keyFile; // PEM, for TLS
    QStringList allow;            // "10.0.0.3", "10.0.0.0/24", "mx1.corp.example"; empty: loopback only
    std::size_t maxMessage = 64 * 1024;
    int maxConnections = 64;
};

struct ListenerCounters {
    std::int64_t received = 0;    // messages turned into lines
    std::int64_t malformed = 0;   // not syslog, bad framing
    std::int64_t oversized = 0;   // over maxMessage
    std::int64_t refused = 0;     // from a sender not on the allow list (datagrams and connections)
    std::int64_t truncated = 0;   // a peer disconnected mid-message
    std::int64_t connections = 0; // TCP/TLS connections accepted so far
    std::int64_t overLimit = 0;   // connections refused over maxConnections
};

class SyslogListener : public QObject {
    Q_OBJECT
public:
    SyslogListener(LineQueue* queue, ListenerConfig config, QObject* parent = nullptr);
    ~SyslogListener() override;

    // Resolves the allow list and binds. False with a reason (port in use, bad certificate,
    // unresolvable host). Call in the thread the listener lives in.
    bool start(QString* error);
    void stop();

    int udpPort() const;
    int tcpPort() const;
    int tlsPort() const;
    ListenerCounters counters() const;
    QString describe() const; // "udp/5514 tcp/5514" for the session record

    // The allow list check (exposed for tests).
    bool allowed(const QHostAddress& peer) const;

signals:
    void notice(const QString& what);

private:
    void readDatagrams();
    void acceptConnection(QTcpSocket* socket, bool tls);
    void handleMessage(std::string_view message, const QHostAddress& peer);

    struct Counters {
        std::atomic<std::int64_t> received{0}, malformed{0}, oversized{0}, refused{0}, truncated{0}, connections{0},
            overLimit{0};
    };
    LineQueue* m_queue;
    ListenerConfig m_config;
    QUdpSocket* m_udp = nullptr;
    QTcpServer* m_tcp = nullptr;
    QTcpServer* m_tls = nullptr;
    std::vector<std::pair<QHostAddress, int>> m_allowed; // address and prefix length
    int m_open = 0;
    Counters m_counters;
    std::string m_line;
    std::int64_t m_lastNotice = 0;
};

} // namespace mt::live
