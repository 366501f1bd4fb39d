// mailtriage-confirm: a sendmail-compatible wrapper for mail clients (claims 27-34).
//
//   mailtriage-confirm [-t] [-i] [-f SENDER] [other sendmail options] [RECIPIENT...] < message
//   mailtriage-confirm --keygen [--algorithm ed25519|hmac-sha256] [--user EMAIL]
//   mailtriage-confirm --enrolment-line
//
// When the message meets one of the criteria of the config file (more than N messages from this
// user in the last T minutes, a risky attachment type, more than M recipients, or "always"), the
// user must confirm it: a dialog with a password field when a display is present, a prompt on
// the terminal otherwise. The password unlocks the user's signing key (KeyStore.h); without it
// nothing is sent. The confirmed message gets an X-Send-Confirm header (SendConfirm.h) and goes
// to the real sendmail with the same options. Messages that meet no criterion go through as
// they are. Common options: --config FILE (else $MAILTRIAGE_CONFIRM_CONFIG, else
// ~/.config/mailtriage-confirm/config.ini), --password-fd N (read the password from a file
// descriptor instead of asking: scripts and tests).
//
// Exit status: that of the real sendmail; 64 bad usage, 66 no message, 77 not confirmed
// (cancelled or wrong password), 78 configuration or key problem.
#include "ConfirmDialog.h"

#include "model/confirm/KeyStore.h"
#include "model/confirm/OutgoingMessage.h"
#include "model/confirm/SendConfirm.h"
#include "model/detection/Rules.h"

#include <QApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSettings>
#include <QStandardPaths>

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <termios.h>
#include <unistd.h>

using namespace mt::confirm;

namespace {

constexpr int kExUsage = 64, kExNoInput = 66, kExNoPerm = 77, kExConfig = 78;

int fail(int code, const std::string& why) {
    std::cerr << "mailtriage-confirm: " << why << "\n";
    return code;
}

QString home() { return QDir::homePath(); }

struct Config {
    QStringList sendmail{QStringLiteral("/usr/sbin/sendmail")};
    QString user;
    QString keyFile;
    QString historyFile;
    SendPolicy policy;
};

std::optional<Config> loadConfig(const QString& path, std::string& error) {
    Config c;
    c.keyFile = home() + QStringLiteral("/.config/mailtriage-confirm/key.json");
    c.historyFile = home() + QStringLiteral("/.local/state/mailtriage-confirm/sent");
    const mt::det::RuleSet defaults = mt::det::RuleSet::defaults();
    c.policy.riskyExtensions = defaults.type.executable;
    c.policy.riskyExtensions.insert(c.policy.riskyExtensions.end(), defaults.type.script.begin(), defaults.type.script.end());
    if (!QFileInfo::exists(path)) return c; // defaults; the key file names the user
    QSettings s(path, QSettings::IniFormat);
    if (s.status() != QSettings::NoError) {
        error = "cannot read the config file " + path.toStdString();
        return std::nullopt;
    }
    auto expand = [](QString p) { return p.startsWith(QLatin1String("~/")) ? home() + p.mid(1) : p; };
    if (s.contains(QStringLiteral("sendmail/command"))) {
        const QString cmd = s.value(QStringLiteral("sendmail/command")).toStringList().join(QLatin1Char(','));
        c.sendmail = QProcess::splitCommand(cmd);
        if (c.sendmail.isEmpty()) {
            error = path.toStdString() + ": sendmail/command is empty";
            return std::nullopt;
        }
    }
    c.user = s.value(QStringLiteral("user/address")).toString().trimmed();
    c.keyFile = expand(s.value(QStringLiteral("user/key_file"), c.keyFile).toString());
    c.historyFile = expand(s.value(QStringLiteral("user/history_file"), c.historyFile).toString());
    bool ok = true;
    auto num = [&](const char* key, int def) {
        const QVariant v = s.value(QLatin1String(key));
        if (!v.isValid()) return def;
        bool good = false;
        const int n = v.toInt(&good);
        if (!good || n < 0) {
            ok = false;
            error = path.toStdString() + ": " + key + " must be a number >= 0";
        }
        return n;
    };
    c.policy.maxMessages = num("criteria/max_messages", c.policy.maxMessages);
    c.policy.windowMinutes = num("criteria/window_minutes", c.policy.windowMinutes);
    c.policy.maxRecipients = num("criteria/max_recipients", c.policy.maxRecipients);
    c.policy.always = s.value(QStringLiteral("criteria/always"), false).toBool();
    if (s.contains(QStringLiteral("criteria/risky_extensions"))) {
        c.policy.riskyExtensions.clear();
        for (QString e : s.value(QStringLiteral("criteria/risky_extensions")).toStringList().join(QLatin1Char(',')).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            e = e.trimmed().toLower();
            if (e.startsWith(QLatin1Char('.'))) e.remove(0, 1);
            if (!e.isEmpty()) c.policy.riskyExtensions.push_back(e.toStdString());
        }
    }
    if (!ok) return std::nullopt;
    return c;
}

std::string readFd(int fd) {
    std::string s;
    char ch;
    while (::read(fd, &ch, 1) == 1 && ch != '\n') s += ch;
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return s;
}

// Asks on the controlling terminal with echo off. nullopt: no terminal. Echo goes off before
// the prompt is written (and without flushing input), so an answer typed ahead is kept.
std::optional<std::string> askTerminal(const std::string& intro, const std::string& prompt) {
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    termios old{};
    const bool isTty = ::tcgetattr(fd, &old) == 0;
    if (isTty) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(fd, TCSANOW, &quiet);
    }
    if (!intro.empty()) (void)!::write(fd, intro.data(), intro.size());
    (void)!::write(fd, prompt.data(), prompt.size());
    std::string s = readFd(fd);
    if (isTty) ::tcsetattr(fd, TCSANOW, &old);
    (void)!::write(fd, "\n", 1);
    ::close(fd);
    return s;
}

// Says something on the controlling terminal (no answer expected).
void tellTerminal(const std::string& text) {
    const int fd = ::open("/dev/tty", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    (void)!::write(fd, text.data(), text.size());
    ::close(fd);
}

bool haveDisplay() {
    for (const char* v : {"DISPLAY", "WAYLAND_DISPLAY"})
        if (const char* e = std::getenv(v); e && *e) return true;
    const char* qpa = std::getenv("QT_QPA_PLATFORM");
    return qpa && std::strcmp(qpa, "offscreen") != 0 && *qpa;
}

std::unique_ptr<QApplication> g_app;
void ensureApp(int& argc, char** argv) {
    if (!g_app) g_app = std::make_unique<QApplication>(argc, argv);
}

// The user's confirmation: the password that unlocks the key. Three tries.
enum class Outcome { Confirmed, Cancelled, NoWay, KeyProblem };
Outcome confirmAndUnlock(const Config& cfg, const PromptInfo& info, int passwordFd, int& argc, char** argv, SigningKey& key,
                         std::string& error) {
    const std::string keyFile = cfg.keyFile.toStdString();
    constexpr int kTries = 3;
    auto tryPassword = [&](const std::string& pw, bool& wrong) {
        wrong = false;
        return !pw.empty() && KeyStore::unlock(keyFile, pw, key, nullptr, &error, &wrong);
    };
    bool wrong = false;
    if (passwordFd >= 0) {
        const std::string pw = readFd(passwordFd);
        if (pw.empty()) return Outcome::Cancelled;
        if (tryPassword(pw, wrong)) return Outcome::Confirmed;
        return wrong ? Outcome::Cancelled : Outcome::KeyProblem;
    }
    if (haveDisplay()) {
        ensureApp(argc, argv);
        ConfirmDialog dlg(info);
        for (int left = kTries; left > 0;) {
            if (dlg.exec() != QDialog::Accepted) return Outcome::Cancelled;
            if (tryPassword(dlg.password().toStdString(), wrong)) return Outcome::Confirmed;
            if (!wrong) return Outcome::KeyProblem;
            dlg.showWrongPassword(--left);
        }
        return Outcome::Cancelled;
    }
    std::ostringstream intro;
    intro << "\nThis message needs your confirmation before it is sent:\n  " << info.reasons.toStdString() << "\n"
          << "  From: " << info.sender.toStdString() << "\n  Subject: " << info.subject.toStdString() << "\n  To: "
          << info.recipients.size() << " recipient(s): " << info.recipients.mid(0, 6).join(QStringLiteral(", ")).toStdString()
          << (info.recipients.size() > 6 ? ", ..." : "") << "\n";
    if (!info.attachments.isEmpty()) intro << "  Attachments: " << info.attachments.join(QStringLiteral(", ")).toStdString() << "\n";
    intro << "A worm mailing itself from your account would trigger this too.\n";
    for (int i = 0; i < kTries; ++i) {
        const std::optional<std::string> pw =
            askTerminal(i == 0 ? intro.str() : std::string(), "Password to confirm and send (empty: do not send): ");
        if (!pw) return Outcome::NoWay;
        if (pw->empty()) return Outcome::Cancelled;
        if (tryPassword(*pw, wrong)) return Outcome::Confirmed;
        if (!wrong) return Outcome::KeyProblem;
        tellTerminal("Wrong password.\n");
    }
    return Outcome::Cancelled;
}

std::vector<std::int64_t> readHistory(const QString& path, std::int64_t now) {
    std::vector<std::int64_t> out;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return out;
    for (const QByteArray& line : f.readAll().split('\n')) {
        bool ok = false;
        const qint64 t = line.trimmed().toLongLong(&ok);
        if (ok && t > now - 86400) out.push_back(t);
    }
    return out;
}

void writeHistory(const QString& path, std::vector<std::int64_t> sends) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return;
    for (std::int64_t t : sends) f.write(QByteArray::number(static_cast<qint64>(t)) + '\n');
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
}

int keygen(const Config& cfg, const QString& userArg, Algorithm alg, int passwordFd) {
    const QString user = userArg.isEmpty() ? cfg.user : userArg;
    if (user.isEmpty()) return fail(kExUsage, "--keygen needs --user EMAIL (or user/address in the config file)");
    if (QFileInfo::exists(cfg.keyFile)) return fail(kExConfig, cfg.keyFile.toStdString() + " exists already; move it away to make a new key");
    std::string pw;
    if (passwordFd >= 0) {
        pw = readFd(passwordFd);
    } else {
        const auto a = askTerminal("New signing key for " + user.toStdString() + ".\n", "Password: ");
        const auto b = askTerminal("", "Password again: ");
        if (!a || !b) return fail(kExUsage, "no terminal to ask for the password (use --password-fd N)");
        if (*a != *b) return fail(kExUsage, "the passwords differ");
        pw = *a;
    }
    if (pw.size() < 8) return fail(kExUsage, "the password needs at least 8 characters");
    SigningKey key = SigningKey::generate(alg);
    std::string error;
    if (!KeyStore::save(cfg.keyFile.toStdString(), user.toStdString(), key, pw, &error)) return fail(kExConfig, error);
    KeyFileInfo info;
    KeyStore::info(cfg.keyFile.toStdString(), info);
    std::cerr << "key " << info.keyId << " written to " << cfg.keyFile.toStdString() << " (mode 0600)\n";
    std::cout << "user,algorithm,key_id,public_key\n" << KeyStore::enrolmentLine(info) << "\n";
    if (alg == Algorithm::HmacSha256) {
        std::cerr << "HMAC: the analysis host needs this secret line in its MAILTRIAGE_CONFIRM_SECRETS file "
                     "(keep it secret):\n";
        std::cerr << info.user << "," << base64(key.raw()) << "\n";
    }
    return 0;
}

int dialogScreenshot(int& argc, char** argv, const QString& out) {
    ensureApp(argc, argv);
    PromptInfo info;
    info.sender = QStringLiteral("alice@corp.example.test");
    info.subject = QStringLiteral("ILOVEYOU");
    for (int i = 0; i < 14; ++i) info.recipients << QStringLiteral("user%1@corp.example.test").arg(i);
    info.attachments << QStringLiteral("LOVE-LETTER-FOR-YOU.TXT.vbs");
    info.reasons = QStringLiteral("attachment LOVE-LETTER-FOR-YOU.TXT.vbs can run code; 14 recipients (more than 10)");
    ConfirmDialog dlg(info);
    dlg.showWrongPassword(2);
    dlg.show();
    QApplication::processEvents();
    dlg.adjustSize();
    QApplication::processEvents();
    return dlg.grab().save(out) ? 0 : fail(kExConfig, "cannot write " + out.toStdString());
}

} // namespace

static int run(int& argc, char** argv) {
    QString configPath = QString::fromLocal8Bit(qgetenv("MAILTRIAGE_CONFIRM_CONFIG"));
    if (configPath.isEmpty()) configPath = home() + QStringLiteral("/.config/mailtriage-confirm/config.ini");
    int passwordFd = -1;
    bool extract = false, ignoreDots = false, doKeygen = false, enrolLine = false;
    QString sender, keygenUser, screenshot;
    Algorithm alg = Algorithm::Ed25519;
    QStringList passOptions, recipientsArgs;
    bool passthroughMode = false;
    auto needArg = [&](int& i, const char* opt) -> std::optional<QString> {
        if (i + 1 >= argc) {
            fail(kExUsage, std::string(opt) + " needs a value");
            return std::nullopt;
        }
        return QString::fromLocal8Bit(argv[++i]);
    };
    bool endOfOptions = false;
    for (int i = 1; i < argc; ++i) {
        const QString a = QString::fromLocal8Bit(argv[i]);
        if (endOfOptions || !a.startsWith(QLatin1Char('-')) || a == QLatin1String("-")) {
            recipientsArgs << a;
            continue;
        }
        if (a == QLatin1String("--")) endOfOptions = true;
        else if (a == QLatin1String("--config")) { auto v = needArg(i, "--config"); if (!v) return kExUsage; configPath = *v; }
        else if (a == QLatin1String("--password-fd")) {
            auto v = needArg(i, "--password-fd");
            if (!v) return kExUsage;
            bool ok = false;
            passwordFd = v->toInt(&ok);
            if (!ok || passwordFd < 0) return fail(kExUsage, "--password-fd needs a file descriptor number");
        }
        else if (a == QLatin1String("--keygen")) doKeygen = true;
        else if (a == QLatin1String("--user")) { auto v = needArg(i, "--user"); if (!v) return kExUsage; keygenUser = *v; }
        else if (a == QLatin1String("--algorithm")) {
            auto v = needArg(i, "--algorithm");
            if (!v) return kExUsage;
            if (!algorithmFromName(v->toStdString(), alg)) return fail(kExUsage, "--algorithm: ed25519 or hmac-sha256");
        }
        else if (a == QLatin1String("--enrolment-line")) enrolLine = true;
        else if (a == QLatin1String("--dialog-screenshot")) { auto v = needArg(i, "--dialog-screenshot"); if (!v) return kExUsage; screenshot = *v; }
        else if (a == QLatin1String("--help")) {
            std::cout << "usage: mailtriage-confirm [-t] [-i] [-f SENDER] [sendmail options] [RECIPIENT...] < message\n"
                         "       mailtriage-confirm --keygen [--algorithm ed25519|hmac-sha256] [--user EMAIL]\n"
                         "       mailtriage-confirm --enrolment-line\n"
                         "common: --config FILE, --password-fd N\n";
            return 0;
        }
        else if (a == QLatin1String("-t")) extract = true;
        else if (a == QLatin1String("-i") || a == QLatin1String("-oi")) ignoreDots = true;
        else if (a == QLatin1String("-f") || a == QLatin1String("-r")) { auto v = needArg(i, "-f"); if (!v) return kExUsage; sender = *v; }
        else if (a.startsWith(QLatin1String("-f")) || a.startsWith(QLatin1String("-r"))) sender = a.mid(2);
        else if (a == QLatin1String("-F") || a == QLatin1String("-o") || a == QLatin1String("-N") || a == QLatin1String("-R")
                 || a == QLatin1String("-V") || a == QLatin1String("-B") || a == QLatin1String("-C")) {
            auto v = needArg(i, argv[i]);
            if (!v) return kExUsage;
            passOptions << a << *v;
        }
        else {
            // Modes that send nothing (-bs, -bv, -bp, -q, -I ...) go to the real sendmail untouched.
            if ((a.startsWith(QLatin1String("-b")) && a != QLatin1String("-bm")) || a.startsWith(QLatin1String("-q")) || a == QLatin1String("-I"))
                passthroughMode = true;
            passOptions << a;
        }
    }
    std::string error;
    const std::optional<Config> cfg = loadConfig(configPath, error);
    if (!cfg) return fail(kExConfig, error);
    if (!screenshot.isEmpty()) return dialogScreenshot(argc, argv, screenshot);
    if (doKeygen) return keygen(*cfg, keygenUser, alg, passwordFd);
    if (enrolLine) {
        KeyFileInfo info;
        if (!KeyStore::info(cfg->keyFile.toStdString(), info, &error)) return fail(kExConfig, error);
        std::cout << "user,algorithm,key_id,public_key\n" << KeyStore::enrolmentLine(info) << "\n";
        return 0;
    }

    const QString program = cfg->sendmail.first();
    QStringList realArgs = cfg->sendmail.mid(1);
    if (passthroughMode) {
        QProcess p;
        p.setProcessChannelMode(QProcess::ForwardedChannels);
        p.setInputChannelMode(QProcess::ForwardedInputChannel);
        for (int i = 1; i < argc; ++i) realArgs << QString::fromLocal8Bit(argv[i]);
        p.start(program, realArgs);
        if (!p.waitForStarted(-1)) return fail(kExConfig, "cannot run " + program.toStdString());
        p.waitForFinished(-1);
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : 75;
    }

    // The message.
    std::string bytes;
    {
        std::ostringstream ss;
        ss << std::cin.rdbuf();
        bytes = ss.str();
    }
    if (bytes.empty()) return fail(kExNoInput, "no message on standard input");
    if (!ignoreDots) {
        // Without -i a line with a single dot ends the message (sendmail's default).
        for (const char* end : {"\n.\n", "\n.\r\n"})
            if (const std::size_t p = bytes.find(end); p != std::string::npos) bytes.resize(p + 1);
    }
    OutgoingMessage msg(std::move(bytes));

    KeyFileInfo keyInfo;
    const bool haveKey = KeyStore::info(cfg->keyFile.toStdString(), keyInfo, &error);
    std::string from = normaliseAddress(sender.toStdString());
    if (from.empty()) from = normaliseAddress(cfg->user.toStdString());
    if (from.empty() && haveKey) from = keyInfo.user;
    if (from.empty()) return fail(kExConfig, "no sender: give -f, user/address in the config file, or make a key (--keygen)");

    std::vector<std::string> rcpts;
    for (const QString& r : recipientsArgs)
        for (std::string& a : parseAddressList(r.toStdString())) rcpts.push_back(std::move(a));
    if (extract)
        for (std::string& a : msg.headerRecipients()) rcpts.push_back(std::move(a));
    std::sort(rcpts.begin(), rcpts.end());
    rcpts.erase(std::unique(rcpts.begin(), rcpts.end()), rcpts.end());
    if (rcpts.empty()) return fail(kExUsage, "no recipients (give them as arguments or use -t)");

    const std::int64_t now = QDateTime::currentSecsSinceEpoch();
    std::vector<std::int64_t> history = readHistory(cfg->historyFile, now);
    const std::vector<std::string> attachments = msg.attachmentNames();
    std::string reasons;
    const Criteria criteria = evaluateCriteria(cfg->policy, now, history, rcpts.size(), attachments, &reasons);
    if (criteria.any()) {
        if (!haveKey) return fail(kExConfig, "this message needs confirmation but there is no signing key: " + error);
        if (from != keyInfo.user)
            return fail(kExNoPerm, "not sent: the signing key is " + keyInfo.user + "'s, the message would go out as " + from);
        const std::string domain = from.substr(from.find('@') + 1);
        const std::string messageId = msg.ensureMessageId(domain);
        PromptInfo info;
        info.sender = QString::fromStdString(from);
        info.subject = QString::fromStdString(msg.header("Subject"));
        for (const std::string& r : rcpts) info.recipients << QString::fromStdString(r);
        for (const std::string& a : attachments) info.attachments << QString::fromStdString(a);
        info.reasons = QString::fromStdString(reasons);
        SigningKey key;
        switch (confirmAndUnlock(*cfg, info, passwordFd, argc, argv, key, error)) {
        case Outcome::Confirmed: break;
        case Outcome::Cancelled: return fail(kExNoPerm, "not sent: not confirmed (" + reasons + ")");
        case Outcome::NoWay: return fail(kExNoPerm, "not sent: it needs confirmation (" + reasons + ") and there is no display or terminal to ask");
        case Outcome::KeyProblem: return fail(kExConfig, "not sent: " + error);
        }
        Confirmation c;
        c.sender = from;
        c.messageId = messageId;
        c.recipients = rcpts;
        c.time = QDateTime::currentSecsSinceEpoch();
        c.criteria = criteria;
        const std::string value = makeToken(c, key).toHeaderValue();
        if (std::strlen(kHeaderName) + 2 + value.size() > kPostfixLogLimit)
            std::cerr << "mailtriage-confirm: warning: the token is longer than Postfix logs a header\n";
        msg.setConfirmHeader(value);
    }

    if (ignoreDots) realArgs << QStringLiteral("-i");
    if (extract) realArgs << QStringLiteral("-t");
    realArgs << QStringLiteral("-f") << QString::fromStdString(from);
    realArgs << passOptions;
    if (!recipientsArgs.isEmpty()) realArgs << QStringLiteral("--") << recipientsArgs;
    QProcess p;
    p.setProcessChannelMode(QProcess::ForwardedChannels);
    p.start(program, realArgs);
    if (!p.waitForStarted(-1)) return fail(kExConfig, "cannot run " + program.toStdString() + ": " + p.errorString().toStdString());
    p.write(msg.bytes().data(), static_cast<qint64>(msg.bytes().size()));
    p.closeWriteChannel();
    p.waitForFinished(-1);
    if (p.exitStatus() != QProcess::NormalExit) return fail(75, program.toStdString() + " crashed");
    if (p.exitCode() == 0) {
        history.push_back(now);
        writeHistory(cfg->historyFile, history);
    }
    return p.exitCode();
}

int main(int argc, char** argv) {
    const int rc = run(argc, argv);
    g_app.reset(); // before static destruction: QApplication must not outlive main
    return rc;
}
