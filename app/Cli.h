#pragma once
#include <QStringList>
#include <QTextStream>

namespace mt::cli {
// Runs `mailtriage-cli <command> ...`; returns the process exit code:
// 0 success, 1 an input could not be imported or read, 2 bad usage.
int run(const QStringList& args, QTextStream& out, QTextStream& err);
} // namespace mt::cli
