#include "tools/agate/table.h"

#include <algorithm>
#include <boost/json/serialize.hpp>

namespace agate::cli {

namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(start));
      return lines;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

void append_rule(std::string& out, const std::vector<std::size_t>& widths) {
  out += '+';
  for (auto w : widths) {
    out.append(w + 2, '-');
    out += '+';
  }
  out += '\n';
}

void append_row(std::string& out, const std::vector<std::size_t>& widths,
                const std::vector<std::string>& cells) {
  std::vector<std::vector<std::string_view>> lines;
  std::size_t height = 1;
  for (const auto& c : cells) {
    lines.push_back(lines_of(c));
    height = std::max(height, lines.back().size());
  }
  for (std::size_t i = 0; i < height; ++i) {
    out += '|';
    for (std::size_t col = 0; col < widths.size(); ++col) {
      const std::string_view text =
          col < lines.size() && i < lines[col].size() ? lines[col][i] : std::string_view{};
      out += ' ';
      out += text;
      out.append(widths[col] - display_width(text) + 1, ' ');
      out += '|';
    }
    out += '\n';
  }
}

void append_json(std::string& out, const boost::json::value& v, int depth) {
  const auto indent = [&](int d) { out.append(static_cast<std::size_t>(d) * 2, ' '); };
  if (v.is_object() && !v.as_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [key, member] : v.as_object()) {
      if (!first) out += ",\n";
      first = false;
      indent(depth + 1);
      out += boost::json::serialize(boost::json::string_view(key));
      out += ": ";
      append_json(out, member, depth + 1);
    }
    out += '\n';
    indent(depth);
    out += '}';
  } else if (v.is_array() && !v.as_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& element : v.as_array()) {
      if (!first) out += ",\n";
      first = false;
      indent(depth + 1);
      append_json(out, element, depth + 1);
    }
    out += '\n';
    indent(depth);
    out += ']';
  } else {
    out += boost::json::serialize(v);
  }
}

}  // namespace

std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string render(const Table& table) {
  std::vector<std::size_t> widths;
  for (const auto& h : table.headers) widths.push_back(display_width(h));
  for (const auto& row : table.rows) {
    for (std::size_t col = 0; col < row.size() && col < widths.size(); ++col) {
      for (auto line : lines_of(row[col])) widths[col] = std::max(widths[col], display_width(line));
    }
  }
  std::string out;
  append_rule(out, widths);
  append_row(out, widths, table.headers);
  append_rule(out, widths);
  for (const auto& row : table.rows) append_row(out, widths, row);
  append_rule(out, widths);
  return out;
}

std::string render_properties(const std::vector<std::pair<std::string, std::string>>& properties) {
  Table table{{"Property", "Value"}, {}};
  for (const auto& [name, value] : properties) table.rows.push_back({name, value});
  return render(table);
}

std::string cell_text(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      return "None";
    case boost::json::kind::bool_:
      return value.get_bool() ? "True" : "False";
    case boost::json::kind::string:
      return std::string(value.get_string());
    case boost::json::kind::array: {
      std::string out;
      for (const auto& element : value.get_array()) {
        if (!out.empty()) out += '\n';
        out += cell_text(element);
      }
      return out;
    }
    default:
      return boost::json::serialize(value);
  }
}

std::string pretty_json(const boost::json::value& value) {
  std::string out;
  append_json(out, value, 0);
  out += '\n';
  return out;
}

}  // namespace agate::cli
