#include "SyslogListener.h"

#include "SyslogMessage.h"

#include <QDateTime>
#include <QFile>
#include <QHostInfo>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUdpSocket>

namespace mt::live {

namespace {

// Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d.
QHostAddress plain(const QHostAddress& a) {
    bool ok = false;
    const quint32 v4 = a.toIPv4Address(&ok);
    return ok ? QHostAddress(v4) : a;
}

} // namespace

SyslogListener::SyslogListener(LineQueue* queue, ListenerConfig config, QObject* parent)
    : QObject(parent), m_queue(queue), m_config(std::move(config)) {}

SyslogListener::~SyslogListener() { stop(); }

bool SyslogListener::allowed(const QHostAddress& peer) const {
    const QHostAddress p = plain(peer);
    for (const auto& [net, prefix] : m_allowed)
        if (p.isInSubnet(net, prefix)) return true;
    return false;
}

bool SyslogListener::start(QString* error) {
    auto fail = [&](const QString& why) {
        if (error) *error = why;
        stop();
        return false;
    };
    m_allowed.clear();
    if (m_config.allow.isEmpty()) {
        m_allowed.emplace_back(QHostAddress(QStringLiteral("127.0.0.0")), 8);
        m_allowed.emplace_back(QHostAddress::LocalHostIPv6, 128);
    }
    for (const QString& raw : m_config.allow) {
        const QString entry = raw.trimmed();
        if (entry.contains(QLatin1Char('/'))) {
            const auto subnet = QHostAddress::parseSubnet(entry);
            if (subnet.first.isNull()) return fail(tr("allow list: '%1' is not a subnet").arg(entry));
            m_allowed.emplace_back(plain(subnet.first), subnet.second);
            continue;
        }
        QHostAddress a;
        if (a.setAddress(entry)) {
            a = plain(a);
            m_allowed.emplace_back(a, a.protocol() == QAbstractSocket::IPv4Protocol ? 32 : 128);
            continue;
        }
        const QHostInfo info = QHostInfo::fromName(entry);
        if (info.error() != QHostInfo::NoError || info.addresses().isEmpty())
            return fail(tr("allow list: cannot resolve '%1': %2").arg(entry, info.errorString()));
        for (const QHostAddress& r : info.addresses()) {
            const QHostAddress p = plain(r);
            m_allowed.emplace_back(p, p.protocol() == QAbstractSocket::IPv4Protocol ? 32 : 128);
        }
    }
    if (m_config.udpPort >= 0) {
        m_udp = new QUdpSocket(this);
        if (!m_udp->bind(m_config.bind, static_cast<quint16>(m_config.udpPort)))
            return fail(tr("UDP port %1: %2").arg(m_config.udpPort).arg(m_udp->errorString()));
        // Room for a few seconds of a burst while this thread is busy.
        m_udp->setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 16 * 1024 * 1024);
        connect(m_udp, &QUdpSocket::readyRead, this, &SyslogListener::readDatagrams);
    }
    if (m_config.tcpPort >= 0) {
        m_tcp = new QTcpServer(this);
        m_tcp->setMaxPendingConnections(m_config.maxConnections);
        if (!m_tcp->listen(m_config.bind, static_cast<quint16>(m_config.tcpPort)))
            return fail(tr("TCP port %1: %2").arg(m_config.tcpPort).arg(m_tcp->errorString()));
        connect(m_tcp, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* s = m_tcp->nextPendingConnection()) acceptConnection(s, false);
        });
    }
    if (m_config.tlsPort >= 0) {
        if (!QSslSocket::supportsSsl()) return fail(tr("TLS: this Qt has no TLS backend"));
        QFile certFile(m_config.certificateFile), keyFile(m_config.keyFile);
        if (!certFile.open(QIODevice::ReadOnly)) return fail(tr("TLS certificate %1: %2").arg(m_config.certificateFile, certFile.errorString()));
        if (!keyFile.open(QIODevice::ReadOnly)) return fail(tr("TLS key %1: %2").arg(m_config.keyFile, keyFile.errorString()));
        const QList<QSslCertificate> chain = QSslCertificate::fromData(certFile.readAll(), QSsl::Pem);
        const QByteArray keyPem = keyFile.readAll();
        QSslKey key(keyPem, QSsl::Rsa, QSsl::Pem);
        if (key.isNull()) key = QSslKey(keyPem, QSsl::Ec, QSsl::Pem);
        if (chain.isEmpty()) return fail(tr("TLS certificate %1: no PEM certificate in it").arg(m_config.certificateFile));
        if (key.isNull()) return fail(tr("TLS key %1: no PEM RSA or EC private key in it").arg(m_config.keyFile));
        auto* server = new QSslServer(this);
        QSslConfiguration conf = QSslConfiguration::defaultConfiguration();
        conf.setLocalCertificateChain(chain);
        conf.setPrivateKey(key);
        conf.setPeerVerifyMode(QSslSocket::VerifyNone); // senders are checked by address (allow list)
        server->setSslConfiguration(conf);
        server->setMaxPendingConnections(m_config.maxConnections);
        m_tls = server;
        if (!m_tls->listen(m_config.bind, static_cast<quint16>(m_config.tlsPort)))
            return fail(tr("TLS port %1: %2").arg(m_config.tlsPort).arg(m_tls->errorString()));
        connect(server, &QSslServer::errorOccurred, this, [this](QSslSocket*, QAbstractSocket::SocketError) {
            m_counters.malformed.fetch_add(1, std::memory_order_relaxed);
        });
        // QSslServer queues a connection once its handshake is done (pendingConnectionAvailable).
        connect(m_tls, &QTcpServer::pendingConnectionAvailable, this, [this] {
            while (QTcpSocket* s = m_tls->nextPendingConnection()) acceptConnection(s, true);
        });
    }
    return true;
}

void SyslogListener::stop() {
    if (m_udp) m_udp->close();
    if (m_tcp) m_tcp->close();
    if (m_tls) m_tls->close();
    // Read what the connections still hold before they go.
    for (QTcpSocket* s : findChildren<QTcpSocket*>()) {
        if (s->bytesAvailable()) emit s->readyRead();
        s->abort();
    }
}

int SyslogListener::udpPort() const { return m_udp ? m_udp->localPort() : -1; }
int SyslogListener::tcpPort() const { return m_tcp ? m_tcp->serverPort() : -1; }
int SyslogListener::tlsPort() const { return m_tls ? m_tls->serverPort() : -1; }

QString SyslogListener::describe() const {
    QStringList parts;
    if (m_udp) parts << QStringLiteral("udp/%1").arg(udpPort());
    if (m_tcp) parts << QStringLiteral("tcp/%1").arg(tcpPort());
    if (m_tls) parts << QStringLiteral("tls/%1").arg(tlsPort());
    return parts.join(QLatin1Char(' '));
}

ListenerCounters SyslogListener::counters() const {
    ListenerCounters c;
    c.received = m_counters.received.load();
    c.malformed = m_counters.malformed.load();
    c.oversized = m_counters.oversized.load();
    c.refused = m_counters.refused.load();
    c.truncated = m_counters.truncated.load();
    c.connections = m_counters.connections.load();
    c.overLimit = m_counters.overLimit.load();
    return c;
}

void SyslogListener::handleMessage(std::string_view message, const QHostAddress& peer) {
    const char* why = nullptr;
    const std::int64_t now = QDateTime::currentMSecsSinceEpoch();
    const std::string peerName = plain(peer).toString().toStdString();
    if (!syslogToLogLine(message, now, peerName, m_line, why)) {
        m_counters.malformed.fetch_add(1, std::memory_order_relaxed);
        // Said now and then, not for each of a flood of bad datagrams.
        if (now - m_lastNotice > 10000) {
            m_lastNotice = now;
            emit notice(tr("malformed syslog message from %1: %2").arg(QString::fromStdString(peerName), QString::fromLatin1(why)));
        }
        return;
    }
    LiveLine l;
    l.text = std::move(m_line);
    l.receivedMs = now;
    l.length = l.text.size();
    m_queue->push(std::move(l));
    m_line.clear();
    m_counters.received.fetch_add(1, std::memory_order_relaxed);
}

void SyslogListener::readDatagrams() {
    QByteArray buf;
    while (m_udp->hasPendingDatagrams()) {
        const qint64 size = m_udp->pendingDatagramSize();
        QHostAddress peer;
        quint16 port = 0;
        const qint64 want = size < 0 ? 1 : std::min<qint64>(size, static_cast<qint64>(m_config.maxMessage) + 1);
        buf.resize(static_cast<qsizetype>(std::max<qint64>(want, 1)));
        const qint64 got = m_udp->readDatagram(buf.data(), buf.size(), &peer, &port);
        if (got < 0) break;
        if (!allowed(peer)) {
            m_counters.refused.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        if (size > static_cast<qint64>(m_config.maxMessage)) {
            m_counters.oversized.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        handleMessage(std::string_view(buf.constData(), static_cast<std::size_t>(got)), peer);
    }
}

void SyslogListener::acceptConnection(QTcpSocket* socket, bool tls) {
    socket->setParent(this);
    const QHostAddress peer = socket->peerAddress();
    if (!allowed(peer)) {
        m_counters.refused.fetch_add(1, std::memory_order_relaxed);
        emit notice(tr("refused a %1 connection from %2 (not on the allow list)").arg(tls ? "TLS" : "TCP", plain(peer).toString()));
        socket->abort();
        socket->deleteLater();
        return;
    }
    if (m_open >= m_config.maxConnections) {
        m_counters.overLimit.fetch_add(1, std::memory_order_relaxed);
        socket->abort();
        socket->deleteLater();
        return;
    }
    ++m_open;
    m_counters.connections.fetch_add(1, std::memory_order_relaxed);
    auto framer = std::make_shared<SyslogStreamFramer>(m_config.maxMessage);
    auto read = [this, socket, framer, peer] {
        char buf[65536];
        std::string frame;
        for (;;) {
            const qint64 n = socket->read(buf, sizeof buf);
            if (n <= 0) break;
            framer->append(buf, static_cast<std::size_t>(n));
            const std::int64_t overBefore = framer->oversized, badBefore = framer->malformed;
            while (framer->next(frame)) handleMessage(frame, peer);
            m_counters.oversized.fetch_add(framer->oversized - overBefore, std::memory_order_relaxed);
            m_counters.malformed.fetch_add(framer->malformed - badBefore, std::memory_order_relaxed);
        }
    };
    connect(socket, &QTcpSocket::readyRead, this, read);
    connect(socket, &QTcpSocket::disconnected, this, [this, socket, framer, read] {
        read();
        // A frame cut off by the disconnect: its start is all there is, and it is not a message.
        if (framer->pending() > 0) m_counters.truncated.fetch_add(1, std::memory_order_relaxed);
        --m_open;
        socket->deleteLater();
    });
    if (socket->bytesAvailable()) read();
}

} // namespace mt::live
