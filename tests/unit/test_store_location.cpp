#include <doctest/doctest.h>

#include "store/store_location.h"

using namespace assay;

TEST_CASE("store location: PostgreSQL URIs are recognised by scheme") {
    CHECK(is_postgres_uri("postgresql://h/db"));
    CHECK(is_postgres_uri("postgres://h/db"));
    CHECK_FALSE(is_postgres_uri("assay.db"));
    CHECK_FALSE(is_postgres_uri("/var/lib/postgresql/assay.db"));
    CHECK_FALSE(is_postgres_uri("mysql://h/db"));
}

TEST_CASE("store location: a password never shows") {
    CHECK(mask_store_location("assay.db") == "assay.db");
    CHECK(mask_store_location("postgresql://assay@db:5432/assay?sslmode=require") ==
          "postgresql://assay@db:5432/assay?sslmode=require");
    CHECK(mask_store_location("postgresql://assay:hunter2@db:5432/assay") ==
          "postgresql://assay:***@db:5432/assay");
    // A raw '@' or ':' inside the password, no path, an empty password.
    CHECK(mask_store_location("postgres://u:p@ss:w@rd@db") == "postgres://u:***@db");
    CHECK(mask_store_location("postgresql://u:@db/x") == "postgresql://u:***@db/x");
    // password= as a query parameter, in any case, among others.
    CHECK(mask_store_location("postgresql://db/x?sslmode=verify-full&Password=s3cret&user=u") ==
          "postgresql://db/x?sslmode=verify-full&Password=***&user=u");
    CHECK(mask_store_location("postgresql:///x?password=s3cret") == "postgresql:///x?password=***");
    for (const char* uri :
         {"postgresql://assay:hunter2@db:5432/assay", "postgresql://db/x?a=1&password=hunter2",
          "postgres://u:hunter2@h1,h2:5433/d?password=hunter2"}) {
        CHECK(mask_store_location(uri).find("hunter2") == std::string::npos);
    }
}

TEST_CASE("store location: SQLite-only parts refuse a PostgreSQL URI, masked") {
    CHECK(sqlite_only("assay.db", "review").ok());
    Status st = sqlite_only("postgresql://u:hunter2@db/x", "assay review");
    CHECK(st.code() == StatusCode::invalid_argument);
    CHECK(st.message().rfind("store 'postgresql://u:***@db/x': assay review is not yet "
                             "implemented on PostgreSQL",
                             0) == 0);
}
