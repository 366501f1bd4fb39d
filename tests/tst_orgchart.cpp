// Org-chart importers: CSV (mapping, quoting, encodings, bad rows), LDIF (OpenLDAP, 389-ds,
// ldifde) against the public corpus, format detection, hostile input and speed.
#include "support/PublicData.h"
#include "importers/OrgChart.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <map>
#include <string>

using namespace mt;

namespace {

const QString kOrg = QStringLiteral(MT_TEST_DATA "/org/");
const QString kDirectory = mt::test::publicData(QStringLiteral("directory/"));

const OrgUserRecord* findUser(const OrgChartResult& r, const std::string& email)
{
    for (const OrgUserRecord& u : r.users)
        if (u.email == email)
            return &u;
    return nullptr;
}

std::map<std::string, int> unitCounts(const OrgChartResult& r)
{
    std::map<std::string, int> c;
    for (const OrgUserRecord& u : r.users)
        ++c[u.unitPath];
    return c;
}

QString describe(const OrgChartResult& r)
{
    QString s = QStringLiteral("failed=%1 failure=%2 users=%3 issues=%4")
                    .arg(r.failed)
                    .arg(QString::fromStdString(r.failure))
                    .arg(r.users.size())
                    .arg(r.issues.size());
    for (std::size_t i = 0; i < std::min<std::size_t>(r.issues.size(), 8); ++i)
        s += QStringLiteral("\n  line %1: %2 [%3]")
                 .arg(r.issues[i].line)
                 .arg(QString::fromStdString(r.issues[i].reason), QString::fromStdString(r.issues[i].excerpt));
    return s;
}

#define CHECK_OK(r) QVERIFY2(!(r).failed, qPrintable(describe(r)))

bool hasIssueAt(const OrgChartResult& r, std::int64_t line, const char* reasonPart)
{
    for (const ParseIssue& is : r.issues)
        if (is.line == line && is.reason.find(reasonPart) != std::string::npos)
            return true;
    return false;
}

} // namespace

class TestOrgChart : public QObject {
    Q_OBJECT

private slots:
    // ---- CSV ----
    void csvBasic();
    void csvColumnMap();
    void csvColumnMapRequiredForForeignHeaders();
    void csvColumnMapErrors();
    void csvQuoting();
    void csvBomCrlf();
    void csvSemicolon();
    void csvTab();
    void csvExcelSepLine();
    void csvWindows1252();
    void csvBadRowsInTheMiddle();
    void csvUnterminatedQuote();
    void csvMissingRequiredColumn();
    void csvHeaderOnly();
    void csvHeaders();
    void csvSharedAliasTable();
    void csvUserNamesAndManagerIds();

    // ---- LDIF: the public corpus ----
    void ldifPublicCorpus_data();
    void ldifPublicCorpus();
    void ldifOpenLdapDanglingManagers();
    void ldif389dsExample();
    void ldif389dsEuropean();
    void ldifOpenLdapFoldedNestedOus();

    // ---- LDIF: own fixtures ----
    void ldifActiveDirectory();
    void ldifMalformedEntries();
    void ldifWithoutPeople();

    // ---- detection and hostile input ----
    void detectByContent();
    void otherFormatsAreRejected();
    void badInput_data();
    void badInput();
    void unreadableFile();

    // ---- speed ----
    void csv100kRows();
    void ldif100kEntries();
};

// ---------------------------------------------------------------------------------------------
// CSV

void TestOrgChart::csvBasic()
{
    const OrgChartResult r = readOrgChartCsv(kOrg + "basic.csv");
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(5));
    QVERIFY2(r.issues.empty(), qPrintable(describe(r)));
    QCOMPARE(r.lines, std::int64_t(6));

    const OrgUserRecord* cfo = findUser(r, "cfo@example.com"); // " CFO@Example.COM " trimmed, lower-cased
    QVERIFY(cfo);
    QCOMPARE(cfo->unitPath, std::string("Executive/Finance"));
    QCOMPARE(cfo->manager, std::string("ceo@example.com"));
    QCOMPARE(cfo->name, std::string("Bob Money"));
    QCOMPARE(cfo->workstation, std::string("WS-002"));
    QCOMPARE(cfo->server, std::string("mx1.example.com"));
    QCOMPARE(cfo->line, std::int64_t(3));

    const OrgUserRecord* ann = findUser(r, "ann@example.com");
    QVERIFY(ann);
    QCOMPARE(ann->manager, std::string("cfo@example.com")); // manager addresses lower-cased too
    QCOMPARE(ann->unitPath, std::string("Sales/EMEA/Inside"));

    const OrgUserRecord* carl = findUser(r, "carl@example.com");
    QVERIFY(carl);
    QCOMPARE(carl->unitPath, std::string("Sales/EMEA/Outside")); // " Sales / EMEA / Outside "
    QCOMPARE(carl->manager, std::string("gone@example.com"));    // kept, but reported

    const OrgUserRecord* dora = findUser(r, "dora@example.com");
    QVERIFY(dora);
    QVERIFY(dora->manager.empty()); // "not an address" is no manager
    QVERIFY(dora->workstation.empty());

    const std::vector<std::string> dangling = {"carl@example.com -> gone@example.com",
                                               "dora@example.com -> not an address"};
    QCOMPARE(r.danglingManagers, dangling);
}

void TestOrgChart::csvColumnMap()
{
    // The map wins over auto-detection: "Email" (a private address) would be found by name.
    const OrgColumnMap map = {{"email", "e-mail address"}, {"unit", "Department Path"}, {"manager", "Reports To"}};
    const OrgChartResult r = readOrgChartCsv(kOrg + "mapped.csv", map);
    CHECK_OK(r);
    QVERIFY2(r.issues.empty(), qPrintable(describe(r)));
    QCOMPARE(r.users.size(), std::size_t(3));
    QVERIFY(r.danglingManagers.empty());
    const OrgUserRecord* jane = findUser(r, "jane.guard@corp.example");
    QVERIFY(jane);
    QCOMPARE(jane->name, std::string("Guard, Jane"));     // "Display Name" by alias
    QCOMPARE(jane->workstation, std::string("PC-1001"));  // "Computer" by alias
    QCOMPARE(jane->server, std::string("EXCH01"));        // "Mail Server" by alias
    QCOMPARE(jane->unitPath, std::string("IT/Security"));
    const OrgUserRecord* joe = findUser(r, "joe.watch@corp.example");
    QVERIFY(joe);
    QCOMPARE(joe->manager, std::string("jane.guard@corp.example"));
    QCOMPARE(joe->unitPath, std::string("IT/Security/SOC"));

    // Without the map, the "Email" column is taken and Kim's empty cell is an issue.
    const OrgChartResult plain = readOrgChartCsv(kOrg + "mapped.csv");
    CHECK_OK(plain);
    QCOMPARE(plain.users.size(), std::size_t(2));
    QVERIFY(findUser(plain, "jane.home@home.example"));
    QCOMPARE(plain.issues.size(), std::size_t(1));
    QCOMPARE(plain.issues[0].line, std::int64_t(4));
}

void TestOrgChart::csvColumnMapRequiredForForeignHeaders()
{
    const OrgChartResult unmapped = readOrgChartCsv(kOrg + "mapped_de.csv");
    QVERIFY(unmapped.failed);
    QVERIFY2(unmapped.failure.find("mapped_de.csv") != std::string::npos, unmapped.failure.c_str());
    QVERIFY2(unmapped.failure.find("\"E-Mail-Adresse\"") != std::string::npos, unmapped.failure.c_str());
    QVERIFY2(unmapped.failure.find("\"Abteilung\"") != std::string::npos, unmapped.failure.c_str());

    const OrgColumnMap map = {{"email", "E-Mail-Adresse"}, {"unit", "ABTEILUNG"}, {"manager", "Vorgesetzter"}};
    const OrgChartResult r = readOrgChartCsv(kOrg + "mapped_de.csv", map);
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(2));
    const OrgUserRecord* erika = findUser(r, "erika.musterfrau@firma.example");
    QVERIFY(erika);
    QCOMPARE(erika->unitPath, std::string("Vertrieb/Nord/Innendienst"));
    QCOMPARE(erika->manager, std::string("max.mustermann@firma.example"));
    QCOMPARE(erika->name, std::string("Erika Musterfrau"));
    QVERIFY(r.danglingManagers.empty());
}

void TestOrgChart::csvColumnMapErrors()
{
    // A required field mapped to a column that is not there: the file cannot be used.
    const OrgChartResult r1 = readOrgChartCsv(kOrg + "basic.csv", {{"email", "Work Mail"}});
    QVERIFY(r1.failed);
    QVERIFY2(r1.failure.find("\"Work Mail\"") != std::string::npos, r1.failure.c_str());
    QVERIFY2(r1.failure.find("basic.csv") != std::string::npos, r1.failure.c_str());

    // An optional one: an issue, the field stays empty, everything imports.
    const OrgChartResult r2 = readOrgChartCsv(kOrg + "basic.csv", {{"server", "Mailbox Host"}, {"colour", "x"}});
    CHECK_OK(r2);
    QCOMPARE(r2.users.size(), std::size_t(5));
    QCOMPARE(r2.issues.size(), std::size_t(2)); // unknown field "colour", missing "Mailbox Host"
    for (const OrgUserRecord& u : r2.users)
        QVERIFY(u.server.empty());
}

void TestOrgChart::csvQuoting()
{
    const OrgChartResult r = readOrgChartCsv(kOrg + "quoting.csv");
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(4));
    QCOMPARE(r.lines, std::int64_t(9));

    const OrgUserRecord* alice = findUser(r, "alice@example.com");
    QVERIFY(alice);
    QCOMPARE(alice->name, std::string("Smith, Alice"));
    QCOMPARE(alice->line, std::int64_t(2));

    const OrgUserRecord* bob = findUser(r, "bob@example.com");
    QVERIFY(bob);
    QCOMPARE(bob->unitPath, std::string("R&D/Lab \"North\""));
    QCOMPARE(bob->name, std::string("Bob \"The Builder\" Jones"));
    QCOMPARE(bob->line, std::int64_t(3));

    const OrgUserRecord* carol = findUser(r, "carol@example.com"); // after a 3-line quoted cell
    QVERIFY(carol);
    QCOMPARE(carol->line, std::int64_t(6));
    QCOMPARE(carol->name, std::string("Carol, \"CJ\" Jones")); // the quoted line break becomes a space

    const OrgUserRecord* dave = findUser(r, "dave@example.com");
    QVERIFY(dave);
    QCOMPARE(dave->unitPath, std::string("Ops,Night"));
    QCOMPARE(dave->line, std::int64_t(9));

    // The bad row's line number counts the physical lines of the quoted cells before it.
    QCOMPARE(r.issues.size(), std::size_t(1));
    QCOMPARE(r.issues[0].line, std::int64_t(8));
    QVERIFY(r.issues[0].reason.find("invalid e-mail") != std::string::npos);
    QCOMPARE(r.issues[0].excerpt.substr(0, 11), std::string("bad-address"));
}

void TestOrgChart::csvBomCrlf()
{
    const OrgChartResult r = readOrgChartCsv(kOrg + "bom_crlf.csv");
    CHECK_OK(r);
    QVERIFY2(r.issues.empty(), qPrintable(describe(r)));
    QCOMPARE(r.users.size(), std::size_t(2));
    const OrgUserRecord* zoe = findUser(r, "zoe@example.com"); // the BOM is not part of "Email"
    QVERIFY(zoe);
    QCOMPARE(zoe->name, std::string("Zo\u00eb \u00c5ngstr\u00f6m"));
    QCOMPARE(zoe->unitPath, std::string("Vertrieb/S\u00fcd"));
    const OrgUserRecord* yann = findUser(r, "yann@example.com");
    QVERIFY(yann);
    QCOMPARE(yann->name, std::string("Yann Le Gall, Jr."));
    QCOMPARE(yann->manager, std::string("zoe@example.com"));
    QCOMPARE(yann->line, std::int64_t(3));
    QVERIFY(r.danglingManagers.empty());
    for (const OrgUserRecord& u : r.users)
        for (const std::string* s : {&u.email, &u.name, &u.unitPath, &u.manager})
            QVERIFY(s->find('\r') == std::string::npos);
}

void TestOrgChart::csvSemicolon()
{
    const OrgChartResult r = readOrgChartCsv(kOrg + "semicolon.csv");
    CHECK_OK(r);
    QVERIFY2(r.issues.empty(), qPrintable(describe(r)));
    QCOMPARE(r.users.size(), std::size_t(2));
    const OrgUserRecord* hans = findUser(r, "hans@example.de");
    QVERIFY(hans);
    QCOMPARE(hans->name, std::string("M\u00fcller, Hans")); // a comma is text when ';' delimits
    const OrgUserRecord* grete = findUser(r, "grete@example.de");
    QVERIFY(grete);
    QCOMPARE(grete->name, std::string("Meier; Grete"));
    QCOMPARE(grete->unitPath, std::string("Einkauf/Zentral/Lager"));
    QCOMPARE(grete->manager, std::string("hans@example.de"));
}

void TestOrgChart::csvTab()
{
    const OrgChartResult r = readOrgChartCsv(kOrg + "tab.tsv");
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(2));
    const OrgUserRecord* t1 = findUser(r, "t1@example.com");
    QVERIFY(t1);
    QCOMPARE(t1->name, std::string("Tab, One"));
    QCOMPARE(t1->unitPath, std::string("Ops/Night Shift"));
}

void TestOrgChart::csvExcelSepLine()
{
    const OrgChartResult r = readOrgChartCsv(kOrg + "excel_sep.csv");
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(1));
    QCOMPARE(r.users[0].name, std::string("Comma, Inside"));
    QCOMPARE(r.users[0].line, std::int64_t(3));
    QCOMPARE(orgCsvHeaders(kOrg + "excel_sep.csv"), QStringList({"email", "unit", "name"}));
}

void TestOrgChart::csvWindows1252()
{
    const OrgChartResult r = readOrgChartCsv(kOrg + "latin1.csv");
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(1));
    QCOMPARE(r.users[0].name, std::string("Fran\u00e7ois M\u00fcller \u2013 \u201cFM\u201d"));
    QCOMPARE(r.users[0].unitPath, std::string("Ventes/\u00cele-de-France"));
    QCOMPARE(r.issues.size(), std::size_t(1)); // says it was read as Windows-1252
    QCOMPARE(r.issues[0].line, std::int64_t(0));
}

void TestOrgChart::csvBadRowsInTheMiddle()
{
    const OrgChartResult r = readOrgChartCsv(kOrg + "bad_row.csv");
    CHECK_OK(r);
    QCOMPARE(r.lines, std::int64_t(12));
    QCOMPARE(r.users.size(), std::size_t(7)); // u1 u2 u3 u5 u6 u8 u9
    for (const char* e : {"u1@example.com", "u2@example.com", "u3@example.com", "u5@example.com", "u6@example.com",
                          "u8@example.com", "u9@example.com"})
        QVERIFY2(findUser(r, e), e);
    QCOMPARE(findUser(r, "u9@example.com")->line, std::int64_t(12));
    QCOMPARE(findUser(r, "u1@example.com")->unitPath, std::string("A")); // the duplicate did not replace it

    QCOMPARE(r.issues.size(), std::size_t(4));
    QVERIFY2(hasIssueAt(r, 5, "invalid e-mail address \"not-an-email\""), qPrintable(describe(r)));
    QVERIFY2(hasIssueAt(r, 8, "empty unit"), qPrintable(describe(r)));
    QVERIFY2(hasIssueAt(r, 10, "missing e-mail"), qPrintable(describe(r)));
    QVERIFY2(hasIssueAt(r, 11, "duplicate e-mail address u1@example.com (first on line 2)"), qPrintable(describe(r)));
    for (const ParseIssue& is : r.issues) {
        QVERIFY(is.file.find("bad_row.csv") != std::string::npos);
        QVERIFY(!is.excerpt.empty());
    }
    QCOMPARE(r.issues[0].excerpt, std::string("not-an-email,A,Bad Email"));
}

void TestOrgChart::csvUnterminatedQuote()
{
    const OrgChartResult r = readOrgChartCsv(kOrg + "unterminated.csv");
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(3)); // a, c, d
    QVERIFY(findUser(r, "c@example.com"));
    QCOMPARE(findUser(r, "d@example.com")->line, std::int64_t(5));
    QCOMPARE(r.issues.size(), std::size_t(1));
    QVERIFY2(hasIssueAt(r, 3, "unterminated"), qPrintable(describe(r)));
}

void TestOrgChart::csvMissingRequiredColumn()
{
    const OrgChartResult r = readOrgChartCsv(kOrg + "missing_column.csv");
    QVERIFY(r.failed);
    QVERIFY(r.users.empty());
    QVERIFY2(r.failure.find("missing_column.csv") != std::string::npos, r.failure.c_str());
    QVERIFY2(r.failure.find("'unit'") != std::string::npos, r.failure.c_str());
    QVERIFY2(r.failure.find("\"email\", \"name\", \"manager\"") != std::string::npos, r.failure.c_str());
}

void TestOrgChart::csvHeaderOnly()
{
    const OrgChartResult r = readOrgChartCsv(kOrg + "header_only.csv");
    CHECK_OK(r);
    QVERIFY(r.users.empty());
    QVERIFY(r.issues.empty());
}

void TestOrgChart::csvHeaders()
{
    QCOMPARE(orgCsvHeaders(kOrg + "mapped.csv"),
             QStringList({"Employee ID", "Email", "E-Mail Address", "Department Path", "Display Name", "Reports To",
                          "Computer", "Mail Server"}));
    QCOMPARE(orgCsvHeaders(kOrg + "mapped_de.csv"),
             QStringList({"Personalnummer", "E-Mail-Adresse", "Abteilung", "Name", "Vorgesetzter"}));
    QCOMPARE(orgCsvHeaders(kOrg + "bom_crlf.csv"), QStringList({"Email", "Unit", "Name", "Manager"}));
    QVERIFY(orgCsvHeaders(kOrg + "empty.csv").isEmpty());
    QVERIFY(orgCsvHeaders(kOrg + "garbage.bin").isEmpty());
    QVERIFY(orgCsvHeaders(kOrg).isEmpty());
    QVERIFY(orgCsvHeaders(kOrg + "no-such-file.csv").isEmpty());
}

// ---------------------------------------------------------------------------------------------
// LDIF, public corpus. Expected numbers were established outside this code:
//   users     = grep -c '^mail:' FILE (every mail attribute is a separate person entry here)
//   dangling  = its9282: 999 manager values of the form "cn=Name" (no entry has such a bare DN);
//               389ds_Example: 149 manager DNs, all of them a uid=...,ou=People entry in the file;
//               the others have no manager attribute (grep -ci '^manager:' = 0)
//   units     = a separate Python reading of the files, applying the ou/DN rules by hand.

// Issue 15 item 16: the headers the GUI's column step knows (upn, division, reportsto ...)
// are the importer's: one table.
void TestOrgChart::csvSharedAliasTable()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("aad.csv"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("UPN,Division,Display Name,ReportsTo,Hostname\n"
            "alice@corp.example,Sales,Alice,bob@corp.example,ws-alice\n"
            "bob@corp.example,Sales,Bob,,ws-bob\n");
    f.close();
    const OrgChartResult r = readOrgChartCsv(path);
    QVERIFY2(!r.failed, r.failure.c_str());
    QCOMPARE(r.users.size(), std::size_t(2));
    const OrgUserRecord* a = findUser(r, "alice@corp.example");
    QVERIFY(a);
    QCOMPARE(a->unitPath, std::string("Sales"));
    QCOMPARE(a->manager, std::string("bob@corp.example"));
    QCOMPARE(a->workstation, std::string("ws-alice"));
    // Every alias of the table is found by the importer for its field.
    for (const OrgFieldInfo& field : orgFields()) {
        QVERIFY(!field.aliases.empty());
        QCOMPARE(field.aliases.front(), std::string(field.key));
        for (const std::string& alias : field.aliases) QCOMPARE(orgHeaderKey(alias), alias);
    }
}

// Oracle HR: user names and manager ids; the domain and the id column make them addresses.
void TestOrgChart::csvUserNamesAndManagerIds()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("hr.csv"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("id,name,email,parentId,department\n"
            "1,Steven King,SKING,,Executive\n"
            "2,Neena Kochhar,NKOCHHAR,1,Executive\n"
            "3,Alexander Hunold,AHUNOLD,2,IT\n"
            "4,Bruce Ernst,bernst@other.example,3,IT\n"
            "5,Nobody,NOBODY,99,IT\n");
    f.close();
    const OrgChartResult r = readOrgChartCsv(path, {{"domain", "corp.example"}});
    QVERIFY2(!r.failed, r.failure.c_str());
    QCOMPARE(r.users.size(), std::size_t(5));
    QCOMPARE(findUser(r, "sking@corp.example")->manager, std::string());
    QCOMPARE(findUser(r, "nkochhar@corp.example")->manager, std::string("sking@corp.example"));
    QCOMPARE(findUser(r, "ahunold@corp.example")->manager, std::string("nkochhar@corp.example"));
    QCOMPARE(findUser(r, "bernst@other.example")->manager, std::string("ahunold@corp.example")); // an address stays
    QCOMPARE(r.danglingManagers.size(), std::size_t(1));
    QVERIFY2(r.danglingManagers[0].find("99") != std::string::npos, r.danglingManagers[0].c_str());
    // Without the domain, user names are no addresses: the rows say why.
    const OrgChartResult bare = readOrgChartCsv(path);
    QCOMPARE(bare.users.size(), std::size_t(1));
    QVERIFY(!bare.issues.empty());
    QVERIFY2(bare.issues[0].reason.find("--org-domain") != std::string::npos, bare.issues[0].reason.c_str());
}

void TestOrgChart::ldifPublicCorpus_data()
{
    MT_REQUIRE_PUBLIC_DATA();
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("users");
    QTest::addColumn<int>("dangling");
    QTest::addColumn<int>("withManager");
    QTest::addColumn<int>("lines");

    const QStringList found = QDir(kDirectory).entryList({"*.ldif"}, QDir::Files, QDir::Name);
    const QStringList expected = {"389ds_European.ldif", "389ds_Example.ldif", "openldap_tests_data_test.ldif",
                                  "openldap_tests_regressions_its9282_exampledb.ldif"};
    QCOMPARE(found, expected); // a new corpus file needs its expectations here

    QTest::newRow("389ds_European") << "389ds_European.ldif" << 150 << 0 << 0 << 7592;
    QTest::newRow("389ds_Example") << "389ds_Example.ldif" << 150 << 0 << 149 << 2984;
    QTest::newRow("openldap_test") << "openldap_tests_data_test.ldif" << 10 << 0 << 0 << 412;
    QTest::newRow("openldap_its9282") << "openldap_tests_regressions_its9282_exampledb.ldif" << 999 << 999 << 0
                                      << 29032;
}

void TestOrgChart::ldifPublicCorpus()
{
    MT_REQUIRE_PUBLIC_DATA();
    QFETCH(QString, file);
    QFETCH(int, users);
    QFETCH(int, dangling);
    QFETCH(int, withManager);
    QFETCH(int, lines);

    const OrgChartResult r = readOrgChartLdif(kDirectory + file);
    CHECK_OK(r);
    QVERIFY2(r.issues.empty(), qPrintable(describe(r)));
    QCOMPARE(int(r.users.size()), users);
    QCOMPARE(int(r.danglingManagers.size()), dangling);
    QCOMPARE(int(std::count_if(r.users.begin(), r.users.end(), [](const OrgUserRecord& u) { return !u.manager.empty(); })),
             withManager);
    QCOMPARE(r.lines, std::int64_t(lines));
    for (const OrgUserRecord& u : r.users) {
        QVERIFY(!u.unitPath.empty());
        QVERIFY(!u.name.empty());
        QVERIFY(u.line > 0);
        QCOMPARE(QString::fromStdString(u.email), QString::fromStdString(u.email).toLower());
        if (!u.manager.empty())
            QVERIFY2(findUser(r, u.manager), u.manager.c_str()); // resolved managers are users
    }

    // Detection picks LDIF for all of them and gives the same result.
    const OrgChartResult d = readOrgChart(kDirectory + file);
    CHECK_OK(d);
    QCOMPARE(d.users.size(), r.users.size());
    QCOMPARE(d.danglingManagers, r.danglingManagers);
}

void TestOrgChart::ldifOpenLdapDanglingManagers()
{
    MT_REQUIRE_PUBLIC_DATA();
    const OrgChartResult r = readOrgChartLdif(kDirectory + "openldap_tests_regressions_its9282_exampledb.ldif");
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(999));
    QCOMPARE(r.danglingManagers.size(), std::size_t(999));
    QCOMPARE(r.danglingManagers.front(), std::string("katha_petree@example.com -> cn=Crissie Wayler"));
    for (const OrgUserRecord& u : r.users)
        QVERIFY(u.manager.empty()); // unresolved: left empty

    const OrgUserRecord* katha = findUser(r, "katha_petree@example.com"); // mail: Katha_Petree@example.com
    QVERIFY(katha);
    QCOMPARE(katha->name, std::string("Katha Petree"));
    QCOMPARE(katha->unitPath, std::string("Peons"));
    QCOMPARE(katha->line, std::int64_t(63));
    // Four directory addresses have a blank in the local part; the directory is authoritative.
    const OrgUserRecord* den = findUser(r, "den_van vrouwerff@example.com");
    QVERIFY(den);
    QCOMPARE(den->unitPath, std::string("Janitorial"));

    const std::map<std::string, int> expected = {
        {"Accounting", 89},  {"Administrative", 113},      {"Human Resources", 93}, {"Janitorial", 102},
        {"Management", 100}, {"Payroll", 94},              {"Peons", 101},          {"Planning", 86},
        {"Product Development", 118}, {"Product Testing", 103}};
    QCOMPARE(unitCounts(r), expected);
}

void TestOrgChart::ldif389dsExample()
{
    MT_REQUIRE_PUBLIC_DATA();
    const OrgChartResult r = readOrgChartLdif(kDirectory + "389ds_Example.ldif");
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(150));
    QVERIFY(r.danglingManagers.empty());

    // ou: Human Resources / ou: People under "ou=People": the department is the other one.
    const OrgUserRecord* kv = findUser(r, "kvaughan@example.com");
    QVERIFY(kv);
    QCOMPARE(kv->name, std::string("Kirsten Vaughan"));
    QCOMPARE(kv->unitPath, std::string("Human Resources"));
    QCOMPARE(kv->manager, std::string("jvedder@example.com")); // "uid=jvedder, ou=People, dc=example,dc=com"
    QCOMPARE(kv->line, std::int64_t(115));

    const OrgUserRecord* jv = findUser(r, "jvedder@example.com");
    QVERIFY(jv);
    QCOMPARE(jv->unitPath, std::string("Product Development"));
    QCOMPARE(jv->manager, std::string("bparker@example.com"));

    const OrgUserRecord* bp = findUser(r, "bparker@example.com"); // the top: no manager attribute
    QVERIFY(bp);
    QVERIFY(bp->manager.empty());

    const OrgUserRecord* tk = findUser(r, "tkelly@example.com"); // the one person with a single ou
    QVERIFY(tk);
    QCOMPARE(tk->unitPath, std::string("Product Development"));
    QCOMPARE(tk->manager, std::string("tmorris@example.com"));

    const std::map<std::string, int> expected = {{"Accounting", 41}, {"Human Resources", 48}, {"Payroll", 11},
                                                 {"Product Development", 33}, {"Product Testing", 17}};
    QCOMPARE(unitCounts(r), expected);
}

void TestOrgChart::ldif389dsEuropean()
{
    MT_REQUIRE_PUBLIC_DATA();
    const OrgChartResult r = readOrgChartLdif(kDirectory + "389ds_European.ldif");
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(150));
    QVERIFY(r.danglingManagers.empty());

    const OrgUserRecord* u0 = findUser(r, "user0@test.com");
    QVERIFY(u0);
    QCOMPARE(u0->name, std::string("Babette Rynd\u00e9rs")); // the plain cn, not cn;lang-es
    QCOMPARE(u0->unitPath, std::string("\u00c4nnheim\u00e8"));
    QCOMPARE(u0->line, std::int64_t(39));

    const OrgUserRecord* u1 = findUser(r, "user1@test.com");
    QVERIFY(u1);
    QCOMPARE(u1->name, std::string("m\u00ffrty DeCo\u00f9rsin"));
    QCOMPARE(u1->unitPath, std::string("S\u00e0n Fr\u00e5nc\u00easc\u00f4"));

    const std::map<std::string, int> expected = {{"S\u00e0n Fr\u00e5nc\u00easc\u00f4", 44},
                                                 {"\u00c4nnheim\u00e8", 29},
                                                 {"\u00c7lose Cr\u00e8k\u00e4", 40},
                                                 {"\u00c7\u00e9lin\u00e9 \u00c4ndr\u00e8", 37}};
    QCOMPARE(unitCounts(r), expected);

    int nonAscii = 0;
    for (const OrgUserRecord& u : r.users)
        if (std::any_of(u.name.begin(), u.name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
            ++nonAscii;
    QCOMPARE(nonAscii, 139);
}

void TestOrgChart::ldifOpenLdapFoldedNestedOus()
{
    MT_REQUIRE_PUBLIC_DATA();
    const OrgChartResult r = readOrgChartLdif(kDirectory + "openldap_tests_data_test.ldif");
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(10));
    // No ou attribute on the people: the unit is the DN's OU path, outermost first. The DN of
    // Bjorn Jensen is folded across two lines in the file.
    const OrgUserRecord* bjorn = findUser(r, "bjorn@mailgw.example.com");
    QVERIFY(bjorn);
    QCOMPARE(bjorn->name, std::string("Bjorn Jensen"));
    QCOMPARE(bjorn->unitPath, std::string("People/Information Technology Division"));
    const std::map<std::string, int> expected = {{"People/Alumni Association", 6},
                                                 {"People/Information Technology Division", 4}};
    QCOMPARE(unitCounts(r), expected);
}

// ---------------------------------------------------------------------------------------------
// LDIF, own fixtures

void TestOrgChart::ldifActiveDirectory()
{
    // ldifde style: CRLF, version: 1, changetype: add, base64 DN and values, escaped commas in
    // DNs, folded lines, department attributes, a group and an OU without mail.
    const OrgChartResult r = readOrgChartLdif(kOrg + "ad_ldifde.ldif");
    CHECK_OK(r);
    QVERIFY2(r.issues.empty(), qPrintable(describe(r)));
    QCOMPARE(r.users.size(), std::size_t(5));

    const OrgUserRecord* john = findUser(r, "john.smith@corp.example");
    QVERIFY(john);
    QCOMPARE(john->name, std::string("John Smith")); // displayName over cn
    QCOMPARE(john->unitPath, std::string("Finance/Controlling"));
    QCOMPARE(john->manager, std::string("mei.ng@corp.example"));
    QCOMPARE(john->workstation, std::string("FIN-PC-07"));
    QCOMPARE(john->server, std::string("EXCH01")); // folded msExchHomeServerName

    const OrgUserRecord* mei = findUser(r, "mei.ng@corp.example");
    QVERIFY(mei);
    QCOMPARE(mei->name, std::string("M\u00e9i Ng-\u00c5berg")); // displayName:: base64
    QCOMPARE(mei->unitPath, std::string("Management"));
    QVERIFY(mei->manager.empty());

    const OrgUserRecord* jg = findUser(r, "juergen.gross@corp.example"); // dn:: base64
    QVERIFY(jg);
    QCOMPARE(jg->name, std::string("J\u00fcrgen Gro\u00df"));
    QCOMPARE(jg->unitPath, std::string("Corp/Entwicklung")); // from the DN
    QCOMPARE(jg->manager, std::string("john.smith@corp.example")); // other case, other spacing

    const OrgUserRecord* backup = findUser(r, "backup@corp.example");
    QVERIFY(backup);
    QCOMPARE(backup->unitPath, std::string("Unassigned")); // CN=Users: no OU anywhere

    const OrgUserRecord* folded = findUser(r, "folded.person@corp.example");
    QVERIFY(folded);
    QCOMPARE(folded->unitPath, std::string("Sales/EMEA"));
    QCOMPARE(folded->manager, std::string("mei.ng@corp.example")); // "CN=Ng\2C Mei,..."

    QCOMPARE(r.danglingManagers,
             std::vector<std::string>({"mei.ng@corp.example -> CN=Board,OU=Corp,DC=corp,DC=example"}));
}

void TestOrgChart::ldifMalformedEntries()
{
    const OrgChartResult r = readOrgChartLdif(kOrg + "bad.ldif");
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(3)); // a, d, e
    const OrgUserRecord* a = findUser(r, "a@example.com");
    QVERIFY(a);
    QCOMPARE(a->name, std::string("A Person")); // the bad line inside the entry did not end it
    QCOMPARE(a->unitPath, std::string("People"));
    QCOMPARE(findUser(r, "d@example.com")->manager, std::string("a@example.com"));
    QCOMPARE(findUser(r, "e@example.com")->manager, std::string("a@example.com"));
    QCOMPARE(findUser(r, "e@example.com")->line, std::int64_t(24));
    QVERIFY(r.danglingManagers.empty());

    QVERIFY2(hasIssueAt(r, 6, "no ':'"), qPrintable(describe(r)));
    QVERIFY2(hasIssueAt(r, 9, "continuation"), qPrintable(describe(r)));
    QVERIFY2(hasIssueAt(r, 11, "invalid base64"), qPrintable(describe(r)));
    QVERIFY2(hasIssueAt(r, 14, "does not start with 'dn:'"), qPrintable(describe(r)));
    QVERIFY2(hasIssueAt(r, 17, "invalid mail address \"not-an-address\""), qPrintable(describe(r)));
    QVERIFY2(hasIssueAt(r, 24, "no blank line"), qPrintable(describe(r)));
    QCOMPARE(r.issues.size(), std::size_t(6));
}

void TestOrgChart::ldifWithoutPeople()
{
    const OrgChartResult r = readOrgChartLdif(kOrg + "groups_only.ldif");
    QVERIFY(r.failed);
    QVERIFY2(r.failure.find("groups_only.ldif") != std::string::npos, r.failure.c_str());
    QVERIFY2(r.failure.find("'mail'") != std::string::npos, r.failure.c_str());

    // A CSV is not LDIF.
    const OrgChartResult c = readOrgChartLdif(kOrg + "basic.csv");
    QVERIFY(c.failed);
    QVERIFY2(c.failure.find("not LDIF") != std::string::npos, c.failure.c_str());
}

// ---------------------------------------------------------------------------------------------
// Detection and hostile input

void TestOrgChart::detectByContent()
{
    const OrgChartResult l = readOrgChart(kOrg + "ldif_named.csv"); // LDIF under a .csv name
    CHECK_OK(l);
    QCOMPARE(l.users.size(), std::size_t(1));
    QCOMPARE(l.users[0].unitPath, std::string("People/Ops"));

    const OrgChartResult ad = readOrgChart(kOrg + "ad_ldifde.ldif"); // starts with "version: 1"
    CHECK_OK(ad);
    QCOMPARE(ad.users.size(), std::size_t(5));

    const OrgChartResult c = readOrgChart(kOrg + "semicolon.csv");
    CHECK_OK(c);
    QCOMPARE(c.users.size(), std::size_t(2));

    const OrgChartResult m = readOrgChart(kOrg + "mapped_de.csv", {{"email", "E-Mail-Adresse"}, {"unit", "Abteilung"}});
    CHECK_OK(m);
    QCOMPARE(m.users.size(), std::size_t(2));
}

void TestOrgChart::otherFormatsAreRejected()
{
    MT_REQUIRE_PUBLIC_DATA();
    // Mail logs of other servers are not org charts: a clear failure, no crash, no users.
    const QDir dir(mt::test::publicData(QStringLiteral("other")));
    const QStringList files = dir.entryList(QDir::Files);
    QVERIFY(!files.isEmpty());
    for (const QString& f : files) {
        const OrgChartResult r = readOrgChart(dir.filePath(f));
        QVERIFY2(r.failed, qPrintable(f));
        QVERIFY(r.users.empty());
        QVERIFY2(r.failure.find(f.toStdString()) != std::string::npos, r.failure.c_str());
    }
}

void TestOrgChart::badInput_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("reasonPart");
    QTest::newRow("empty") << kOrg + "empty.csv" << "empty";
    QTest::newRow("blank lines only") << kOrg + "blank_only.csv" << "empty";
    QTest::newRow("binary garbage") << kOrg + "garbage.bin" << "binary";
    QTest::newRow("directory") << kOrg << "directory";
    QTest::newRow("directory, no slash") << QString(MT_TEST_DATA "/org") << "directory";
    QTest::newRow("missing") << kOrg + "no-such-file.csv" << "no such file";
    QTest::newRow("no path") << QString() << "no file";
}

void TestOrgChart::badInput()
{
    QFETCH(QString, path);
    QFETCH(QString, reasonPart);
    const std::string name = path.isEmpty() ? std::string() : QFileInfo(path).fileName().toStdString();
    const OrgChartResult results[] = {readOrgChartCsv(path), readOrgChartLdif(path), readOrgChart(path)};
    for (const OrgChartResult& r : results) {
        QVERIFY(r.failed);
        QVERIFY(r.users.empty());
        QVERIFY2(r.failure.find(reasonPart.toStdString()) != std::string::npos, r.failure.c_str());
        if (!name.empty())
            QVERIFY2(r.failure.find(name) != std::string::npos, r.failure.c_str());
    }
}

void TestOrgChart::unreadableFile()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString path = tmp.filePath("locked.csv");
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("email,unit\na@example.com,X\n");
    }
    QVERIFY(QFile::setPermissions(path, QFileDevice::Permissions()));
    QFile probe(path);
    if (probe.open(QIODevice::ReadOnly))
        QSKIP("running with privileges that read a mode-000 file (root)");
    const OrgChartResult r = readOrgChart(path);
    QVERIFY(r.failed);
    QVERIFY2(r.failure.find("locked.csv") != std::string::npos, r.failure.c_str());
    QVERIFY2(r.failure.find("cannot be read") != std::string::npos, r.failure.c_str());
}

// ---------------------------------------------------------------------------------------------
// Speed: 100k people in a few hundred milliseconds (about 150 ms CSV, 300 ms LDIF optimised on
// a 2-core box). The bound leaves room for a loaded CI machine; unoptimised builds only report.
#ifdef NDEBUG
constexpr qint64 kBudgetMs = 1500;
#else
constexpr qint64 kBudgetMs = 60000;
#endif

void TestOrgChart::csv100kRows()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString path = tmp.filePath("big.csv");
    {
        std::string s = "Email,Unit,Name,Manager,Workstation,Server\r\n";
        s.reserve(12 << 20);
        for (int i = 0; i < 100000; ++i) {
            s += "User" + std::to_string(i) + "@Example.com,Division " + std::to_string(i % 7) + "/Team "
                 + std::to_string(i % 101) + ",\"Last" + std::to_string(i) + ", First\",";
            if (i > 0)
                s += "user" + std::to_string((i - 1) / 10) + "@example.com";
            s += ",WS-" + std::to_string(i) + ",mx" + std::to_string(i % 3) + ".example.com\r\n";
        }
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QCOMPARE(f.write(s.data(), qint64(s.size())), qint64(s.size()));
    }
    QElapsedTimer t;
    t.start();
    const OrgChartResult r = readOrgChartCsv(path);
    const qint64 ms = t.elapsed();
    qInfo("100k-row CSV read in %lld ms", ms);
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(100000));
    QVERIFY(r.issues.empty());
    QVERIFY(r.danglingManagers.empty());
    QCOMPARE(r.users[12345].manager, std::string("user1234@example.com"));
    QCOMPARE(r.users[12345].name, std::string("Last12345, First"));
    QVERIFY2(ms < kBudgetMs, qPrintable(QString::number(ms)));
}

void TestOrgChart::ldif100kEntries()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString path = tmp.filePath("big.ldif");
    {
        std::string s = "version: 1\n\n";
        s.reserve(40 << 20);
        for (int i = 0; i < 100000; ++i) {
            const std::string n = std::to_string(i);
            s += "dn: uid=u" + n + ", ou=Team " + std::to_string(i % 50) + ",ou=People,dc=example,dc=com\n"
                 "objectClass: inetOrgPerson\ncn: User " + n + "\nsn: " + n + "\nmail: U" + n + "@Example.com\n"
                 "ou: Dept " + std::to_string(i % 13) + "\nou: Team " + std::to_string(i % 50) + "\n"
                 "userPassword:: c2VjcmV0\ntelephoneNumber: +1 555 0100\n";
            if (i > 0)
                s += "manager: uid=u" + std::to_string((i - 1) / 10) + ",ou=Team " + std::to_string(((i - 1) / 10) % 50)
                     + ", ou=People, dc=example, dc=com\n";
            s += "\n";
        }
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QCOMPARE(f.write(s.data(), qint64(s.size())), qint64(s.size()));
    }
    QElapsedTimer t;
    t.start();
    const OrgChartResult r = readOrgChart(path);
    const qint64 ms = t.elapsed();
    qInfo("100k-entry LDIF read in %lld ms", ms);
    CHECK_OK(r);
    QCOMPARE(r.users.size(), std::size_t(100000));
    QVERIFY(r.issues.empty());
    QVERIFY(r.danglingManagers.empty());
    QCOMPARE(r.users[12345].manager, std::string("u1234@example.com"));
    QCOMPARE(r.users[12345].unitPath, std::string("Dept 8")); // 12345 % 13
    QVERIFY2(ms < kBudgetMs, qPrintable(QString::number(ms)));
}

QTEST_GUILESS_MAIN(TestOrgChart)
#include "tst_orgchart.moc"
