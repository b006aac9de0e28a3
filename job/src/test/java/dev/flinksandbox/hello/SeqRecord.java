package dev.flinksandbox.hello;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One record line as HelloJob logs it, parsed back from the formatted message. */
record SeqRecord(long seq, int subtask, int attempt) {

    /**
     * The message pattern is derived from {@link HelloJob#SEQ_FORMAT} itself, so the test reads
     * exactly what the job writes: every {} becomes a number.
     */
    private static final Pattern LINE = linePattern(HelloJob.SEQ_FORMAT);

    private static Pattern linePattern(String format) {
        StringBuilder regex = new StringBuilder("^");
        String[] literals = format.split("\\{\\}", -1);
        for (int i = 0; i < literals.length; i++) {
            if (i > 0) {
                regex.append("(\\d+)");
            }
            regex.append(Pattern.quote(literals[i]));
        }
        return Pattern.compile(regex.append('$').toString());
    }

    /** Parses every message; anything HelloJob's logger wrote that is not a record line fails. */
    static List<SeqRecord> parseAll(List<String> messages) {
        List<SeqRecord> records = new ArrayList<>(messages.size());
        for (String message : messages) {
            Matcher m = LINE.matcher(message);
            if (!m.matches()) {
                throw new AssertionError("not a record line: " + message);
            }
            records.add(
                    new SeqRecord(
                            Long.parseLong(m.group(1)),
                            Integer.parseInt(m.group(2)),
                            Integer.parseInt(m.group(3))));
        }
        return records;
    }
}
