#pragma once

// Text output of the agate client: boxed tables as python-manilaclient prints them (left-aligned
// cells, `+---+` rules, one line of a cell per line of its text) and indented JSON.

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agate::cli {

struct Table {
  std::vector<std::string> headers;
  // Each row has one cell per header; a cell may hold several lines separated by '\n'.
  std::vector<std::vector<std::string>> rows;
};

// The table with a rule above and below the headers and below the last row. An empty table
// still shows its headers. Widths count UTF-8 code points, so that names in any script line up
// as long as each character takes one column.
std::string render(const Table& table);

// A two-column "Property | Value" table of `properties`, in the order given.
std::string render_properties(const std::vector<std::pair<std::string, std::string>>& properties);

// How a JSON value reads in a cell, as manilaclient shows Python values: null is "None",
// booleans "True" / "False", strings as they are, numbers as JSON writes them, an array one
// element per line, an object as compact JSON.
std::string cell_text(const boost::json::value& value);

// `value` as JSON indented by two spaces per level, members in their order, ending in a newline.
std::string pretty_json(const boost::json::value& value);

// How many columns `text` takes: its UTF-8 code points.
std::size_t display_width(std::string_view text);

}  // namespace agate::cli
