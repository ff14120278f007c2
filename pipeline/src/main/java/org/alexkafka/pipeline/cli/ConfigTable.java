package org.alexkafka.pipeline.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The configuration of every service as one Markdown table (flag, environment variable, default,
 * description), made from the commands themselves so the README cannot drift from the code.
 */
public final class ConfigTable {

  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Z0-9_]+)(?::-(.*))?}");

  /** One option of one command. */
  public record Row(String command, String flag, String env, String defaultValue, String description) {}

  private ConfigTable() {}

  public static List<Row> rows(CommandLine cli) {
    List<Row> rows = new ArrayList<>();
    collect(cli, rows);
    return rows;
  }

  /** Reads the raw {@code ${env:NAME:-default}} of each option: turns variable interpolation off on {@code cli}. */
  private static void collect(CommandLine cli, List<Row> rows) {
    CommandSpec spec = cli.getCommandSpec();
    spec.interpolateVariables(false);
    List<ArgSpec> args = new ArrayList<>();
    // an option inherited from the root is listed once, under "(all)"
    spec.options().stream().filter(o -> !o.usageHelp() && !o.versionHelp() && !o.inherited()).forEach(args::add);
    args.addAll(spec.positionalParameters());
    for (ArgSpec option : args) {
      String original = option.defaultValue();
      Matcher m = original == null ? null : ENV_DEFAULT.matcher(original);
      String env = m != null && m.matches() ? m.group(1) : "";
      String def = m != null && m.matches() ? (m.group(2) == null ? "" : m.group(2)) : (original == null ? "" : original);
      String description = String.join(" ", option.description()).replace(AlexKafkaCli.DEFAULT_SUFFIX, "")
          .replaceAll("\\s*\\(env [^)]*\\)", "")
          .replace("${DEFAULT-VALUE}", def).replace("${COMPLETION-CANDIDATES}", candidates(option))
          .replace("%%", "%").replace("|", "\\|"); // %% is picocli's escaped %
      String name = option instanceof OptionSpec o ? o.longestName() : ((PositionalParamSpec) option).paramLabel();
      rows.add(new Row(spec.qualifiedName(" ").replaceFirst("^alexkafka ?", ""), name, env, def, description));
    }
    for (CommandLine sub : cli.getSubcommands().values()) {
      if (!sub.getCommandName().equals("help")) {
        collect(sub, rows);
      }
    }
  }

  private static String candidates(ArgSpec option) {
    List<String> values = new ArrayList<>();
    if (option.completionCandidates() != null) {
      option.completionCandidates().forEach(values::add);
    }
    return String.join(", ", values);
  }

  public static String markdown(CommandLine cli) {
    StringBuilder md = new StringBuilder("| command | flag | environment variable | default | what |\n|---|---|---|---|---|\n");
    for (Row r : rows(cli)) {
      md.append("| ").append(r.command().isEmpty() ? "(all)" : r.command()).append(" | `").append(r.flag()).append("` | ")
          .append(r.env().isEmpty() ? "" : "`" + r.env() + "`").append(" | ")
          .append(r.defaultValue().isEmpty() ? "" : "`" + r.defaultValue() + "`").append(" | ")
          .append(r.description()).append(" |\n");
    }
    return md.toString();
  }
}
