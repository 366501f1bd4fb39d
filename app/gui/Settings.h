#pragma once
// The application's settings store (one place names it).
#include <QSettings>

namespace mt::gui {
inline QSettings settings() { return QSettings(QStringLiteral("MailTriage"), QStringLiteral("MailTriage")); }
} // namespace mt::gui
