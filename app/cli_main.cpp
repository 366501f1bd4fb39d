#include "Cli.h"

#include <QCoreApplication>
#include <cstdio>

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailtriage-cli"));
    QCoreApplication::setOrganizationName(QStringLiteral("MailTriage"));
    QTextStream out(stdout), err(stderr);
    return mt::cli::run(app.arguments().mid(1), out, err);
}
