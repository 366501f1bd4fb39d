#include "Keyring.h"

#include <qt6keychain/keychain.h>

#include <QEventLoop>

namespace mt::recall {

namespace {

// Runs a QtKeychain job to its end. False with the keyring's own words.
bool runJob(QKeychain::Job& job, const QString& what, QString* error) {
    job.setAutoDelete(false);
    // Never the insecure fallback: a secret must not land in a plain settings file.
    job.setInsecureFallback(false);
    QEventLoop loop;
    QObject::connect(&job, &QKeychain::Job::finished, &loop, &QEventLoop::quit);
    job.start();
    loop.exec();
    if (job.error() == QKeychain::NoError) return true;
    if (error) *error = what + QStringLiteral(": ") + job.errorString();
    return false;
}

} // namespace

QString keyringService() { return QStringLiteral("MailTriage recall"); }
QString keyringKey(const std::string& host) { return QStringLiteral("imap:") + QString::fromStdString(host); }

bool keyringRead(const std::string& host, std::string& secret, QString* error) {
    QKeychain::ReadPasswordJob job(keyringService());
    job.setKey(keyringKey(host));
    if (!runJob(job, QStringLiteral("no IMAP password for %1 in the desktop keyring").arg(QString::fromStdString(host)), error))
        return false;
    secret = job.textData().toStdString();
    if (secret.empty()) {
        if (error) *error = QStringLiteral("the IMAP password for %1 in the desktop keyring is empty").arg(QString::fromStdString(host));
        return false;
    }
    return true;
}

bool keyringWrite(const std::string& host, const std::string& secret, QString* error) {
    QKeychain::WritePasswordJob job(keyringService());
    job.setKey(keyringKey(host));
    job.setTextData(QString::fromStdString(secret));
    return runJob(job, QStringLiteral("cannot store the IMAP password for %1 in the desktop keyring").arg(QString::fromStdString(host)), error);
}

bool keyringDelete(const std::string& host, QString* error) {
    QKeychain::DeletePasswordJob job(keyringService());
    job.setKey(keyringKey(host));
    return runJob(job, QStringLiteral("cannot remove the IMAP password for %1 from the desktop keyring").arg(QString::fromStdString(host)), error);
}

bool loadKeyringSecrets(ServerDirectory& dir, QString* error) {
    for (const ServerEntry& e : dir.entries()) {
        if (!e.imap || !e.imap->passwordKeyring) continue;
        std::string secret;
        if (!keyringRead(e.host, secret, error)) return false;
        dir.setSecret(e.host, secret);
    }
    return true;
}

} // namespace mt::recall
