#pragma once
// IMAP passwords in the desktop keyring (issue 16), through QtKeychain: the Secret Service
// (GNOME Keyring, KWallet) on Linux, the Keychain on macOS, the Credential Store on Windows.
// An entry with "password_keyring": true in the server directory has its secret here, under
// the service "MailTriage recall" and the key "imap:<host>"; it is read into the directory's
// memory (ServerDirectory::setSecret) before a run and never written anywhere else - not in
// the case file, not in the settings, not in servers.json. password_env and password_file stay
// for the command line and headless runs. The calls block (a local event loop) until the
// keyring answers; a QCoreApplication must exist.
#include "ServerDirectory.h"

#include <QString>
#include <string>

namespace mt::recall {

QString keyringService();
QString keyringKey(const std::string& host);
bool keyringRead(const std::string& host, std::string& secret, QString* error);
bool keyringWrite(const std::string& host, const std::string& secret, QString* error);
bool keyringDelete(const std::string& host, QString* error);
// Reads the secret of every "password_keyring" IMAP entry into `dir` (memory only). False with
// the first error ("servers: mx1: no password in the keyring ..."); true when none is needed.
bool loadKeyringSecrets(ServerDirectory& dir, QString* error);

} // namespace mt::recall
