#pragma once
// The public third-party corpus (../shared/data/public next to the clone, or wherever the
// CMake cache variable MAILTRIAGE_PUBLIC_DATA points). A fresh clone may not have it: tests
// that read it skip with a message naming the variable; CI (.ci/run) sets it and fails when it
// is missing, so it never skips them.
#include <QDir>
#include <QString>
#include <QTest>

namespace mt::test {

inline QString publicDataRoot() { return QStringLiteral(MT_PUBLIC_DATA); }

// path below the corpus root, e.g. publicData("directory/389ds_Example.ldif").
inline QString publicData(const QString& relative = {}) {
    return relative.isEmpty() ? publicDataRoot() : publicDataRoot() + QLatin1Char('/') + relative;
}

inline bool publicDataPresent() { return QDir(publicDataRoot()).exists(); }

inline QByteArray publicDataMissing() {
    return "public corpus not found at " + publicDataRoot().toUtf8()
           + ": configure with -DMAILTRIAGE_PUBLIC_DATA=/path/to/shared/data/public to run this test";
}

} // namespace mt::test

// First statement of a test (or its _data function) that reads the public corpus.
#define MT_REQUIRE_PUBLIC_DATA()                                                                                       \
    do {                                                                                                               \
        if (!mt::test::publicDataPresent()) QSKIP(mt::test::publicDataMissing().constData());                          \
    } while (0)
