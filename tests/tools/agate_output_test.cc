// The agate client without a server: its tables, its JSON, its URL handling and its usage errors.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sstream>

#include "tools/agate/cli.h"
#include "tools/agate/client.h"
#include "tools/agate/table.h"

namespace agate::cli {
namespace {

TEST(AgateTable, BoxesHeadersAndRowsLeftAligned) {
  Table t{{"ID", "Name"}, {{"f3b4", "AG1"}, {"f3b4faaa", "Second"}}};
  EXPECT_EQ(render(t),
            "+----------+--------+\n"
            "| ID       | Name   |\n"
            "+----------+--------+\n"
            "| f3b4     | AG1    |\n"
            "| f3b4faaa | Second |\n"
            "+----------+--------+\n");
}

TEST(AgateTable, EmptyTableStillShowsItsHeaders) {
  EXPECT_EQ(render(Table{{"ID", "Name"}, {}}),
            "+----+------+\n"
            "| ID | Name |\n"
            "+----+------+\n"
            "+----+------+\n");
}

TEST(AgateTable, MultiLineCellsSpanSeveralLinesOfTheirRow) {
  Table t{{"k", "v"}, {{"entries", "admin rw\ndemo ro"}, {"id", "x"}}};
  EXPECT_EQ(render(t),
            "+---------+----------+\n"
            "| k       | v        |\n"
            "+---------+----------+\n"
            "| entries | admin rw |\n"
            "|         | demo ro  |\n"
            "| id      | x        |\n"
            "+---------+----------+\n");
}

TEST(AgateTable, EmptyCellsAndMissingCellsAreBlank) {
  Table t{{"a", "b"}, {{"", "x"}, {"y"}}};
  EXPECT_EQ(render(t),
            "+---+---+\n"
            "| a | b |\n"
            "+---+---+\n"
            "|   | x |\n"
            "| y |   |\n"
            "+---+---+\n");
}

TEST(AgateTable, WidthsCountCharactersNotBytes) {
  EXPECT_EQ(display_width("Grüße"), 5u);
  EXPECT_EQ(display_width(""), 0u);
  Table t{{"Name"}, {{"Grüße"}, {"abc"}}};
  EXPECT_EQ(render(t),
            "+-------+\n"
            "| Name  |\n"
            "+-------+\n"
            "| Grüße |\n"
            "| abc   |\n"
            "+-------+\n");
}

TEST(AgateTable, PropertiesAreAPropertyValueTableInTheGivenOrder) {
  EXPECT_EQ(render_properties({{"name", "AG1"}, {"access_type", "user"}}),
            "+-------------+-------+\n"
            "| Property    | Value |\n"
            "+-------------+-------+\n"
            "| name        | AG1   |\n"
            "| access_type | user  |\n"
            "+-------------+-------+\n");
}

TEST(AgateTable, CellsShowJsonValuesAsManilaClientShowsPythonValues) {
  EXPECT_EQ(cell_text(nullptr), "None");
  EXPECT_EQ(cell_text(true), "True");
  EXPECT_EQ(cell_text(false), "False");
  EXPECT_EQ(cell_text("rw"), "rw");
  EXPECT_EQ(cell_text(0), "0");
  EXPECT_EQ(cell_text(boost::json::parse("[\"a\", 2, null]")), "a\n2\nNone");
  EXPECT_EQ(cell_text(boost::json::parse(R"({"k": "v"})")), R"({"k":"v"})");
  EXPECT_EQ(cell_text(boost::json::array{}), "");
}

TEST(AgateTable, PrettyJsonIndentsByTwoAndKeepsMemberOrder) {
  auto v = boost::json::parse(R"({"b": [1, {"x": null}], "a": {}, "c": [], "d": "é\"q"})");
  EXPECT_EQ(pretty_json(v),
            "{\n"
            "  \"b\": [\n"
            "    1,\n"
            "    {\n"
            "      \"x\": null\n"
            "    }\n"
            "  ],\n"
            "  \"a\": {},\n"
            "  \"c\": [],\n"
            "  \"d\": \"é\\\"q\"\n"
            "}\n");
  EXPECT_EQ(boost::json::parse(pretty_json(v)), v);
}

TEST(AgateClient, EndpointDefaultsThePathToV2) {
  auto e = parse_endpoint("http://127.0.0.1:8786");
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, "8786");
  EXPECT_EQ(e.prefix, "/v2");
  EXPECT_EQ(parse_endpoint("http://localhost:9/").prefix, "/v2");
  EXPECT_EQ(parse_endpoint("http://localhost").port, "80");
  EXPECT_EQ(parse_endpoint("http://[::1]:8786/v2/project-a/").prefix, "/v2/project-a");
  EXPECT_EQ(parse_endpoint("http://[::1]:8786").host, "::1");
}

TEST(AgateClient, EndpointRefusesWhatItCannotUse) {
  EXPECT_THROW(parse_endpoint("https://127.0.0.1:8786"), UsageError);
  EXPECT_THROW(parse_endpoint("127.0.0.1:8786"), UsageError);
  EXPECT_THROW(parse_endpoint("http://127.0.0.1:8786/v2?x=1"), UsageError);
  EXPECT_THROW(parse_endpoint("not a url"), UsageError);
}

TEST(AgateClient, PercentEncodesAllButUnreservedCharacters) {
  EXPECT_EQ(percent_encode("Share 1"), "Share%201");
  EXPECT_EQ(percent_encode("a-b.c_d~e"), "a-b.c_d~e");
  EXPECT_EQ(percent_encode("x&y=z/é"), "x%26y%3Dz%2F%C3%A9");
}

TEST(AgateClient, ReadsTheMessageOfManilasErrorBody) {
  EXPECT_EQ(
      fault_message(boost::json::parse(
          R"({"itemNotFound": {"code": 404, "message": "Access group x could not be found."}})")),
      "Access group x could not be found.");
  EXPECT_EQ(fault_message(boost::json::parse(R"({"a": 1, "b": 2})")), "");
  EXPECT_EQ(fault_message(nullptr), "");
}

struct Outcome {
  int status;
  std::string out, err;
};

Outcome run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "agate");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int status = run(static_cast<int>(argv.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

TEST(AgateArguments, UnknownCommandOrOptionIsAUsageError) {
  auto r = run_cli({"frobnicate"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
  r = run_cli({"list", "--colour"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--colour"), std::string::npos) << r.err;
}

TEST(AgateArguments, MissingArgumentIsAUsageErrorNamingIt) {
  auto r = run_cli({"access-allow", "share1", "ip"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("ACCESS_TO"), std::string::npos) << r.err;
  r = run_cli({"access-group-create", "AG1"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--access-type"), std::string::npos) << r.err;
}

TEST(AgateArguments, NoCommandPrintsTheHelpAndFails) {
  auto r = run_cli({});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("access-group-create"), std::string::npos);
}

TEST(AgateArguments, MalformedApiVersionIsRefusedBeforeAnyRequest) {
  auto r = run_cli({"--api-version", "2.045", "--token", "a:b", "list"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "ERROR: --api-version 2.045: expected 2.N, such as 2.99\n");
  EXPECT_EQ(run_cli({"--api-version", "latest", "--token", "a:b", "list"}).status, 2);
}

TEST(AgateArguments, NonHttpUrlIsRefused) {
  auto r = run_cli({"--url", "https://127.0.0.1:8786", "--token", "a:b", "list"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "ERROR: --url https://127.0.0.1:8786: only http:// URLs are supported\n");
}

TEST(AgateArguments, MalformedKeyValueIsRefused) {
  auto r = run_cli({"--token", "a:b", "--url", "http://127.0.0.1:1", "type-create", "gold",
                    "--extra-specs", "novalue"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "ERROR: --extra-specs novalue: expected KEY=VALUE\n");
}

TEST(AgateArguments, UpdateWithNothingToChangeIsAUsageError) {
  auto r = run_cli({"--token", "a:b", "access-group-update", "AG1"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "ERROR: access-group-update: give --name or --description\n");
}

}  // namespace
}  // namespace agate::cli
