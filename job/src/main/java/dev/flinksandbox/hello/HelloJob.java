package dev.flinksandbox.hello;

import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox's hello-world job: one global, checkpointed sequence 1, 2, 3, ... whose every
 * record is logged exactly once by whichever subtask receives it.
 *
 * <p>The sequence position is the only state, held by the source's split (a number range), so a
 * restore from a checkpoint or savepoint continues the sequence and a stateless start begins at
 * 1 again. The verifier reads the log lines back and checks that nothing is lost or reset.
 *
 * <p>Checkpointing, state backend and restart strategy come from the Flink configuration of the
 * FlinkDeployment, never from this code, so the same jar serves the HA and the no-HA variants.
 *
 * <p>Arguments: {@code --rate <records per second>} (default 5).
 */
public final class HelloJob {

    /**
     * The one log line per record. scripts/lib/flink/sequence-line.ts parses it, and a unit test reads
     * this literal from this file, so change both together.
     */
    static final String SEQ_FORMAT = "SEQ seq={} subtask={} attempt={}";

    static final double DEFAULT_RATE = 5.0;

    static final String JOB_NAME = "hello-job";

    private HelloJob() {}

    public static void main(String[] args) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        addPipeline(env, parseRate(args));
        env.execute(JOB_NAME);
    }

    /**
     * Adds the job's whole pipeline to {@code env}. main() runs it as it is; HelloJobRestoreTest
     * runs the same pipeline on a MiniCluster, with a higher rate, to check restores.
     */
    static void addPipeline(StreamExecutionEnvironment env, double rate) {
        // index starts at 0; the sequence users see starts at 1.
        DataGeneratorSource<Long> source =
                new DataGeneratorSource<>(
                        index -> index + 1,
                        Long.MAX_VALUE,
                        RateLimiterStrategy.perSecond(rate),
                        Types.LONG);

        // Source parallelism 1 keeps ONE global sequence; rebalance() spreads it over every
        // subtask of the logger so each TaskManager shows part of it. Stable uids keep savepoints
        // restorable across code changes.
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "sequence")
                .uid("sequence-source")
                .setParallelism(1)
                .rebalance()
                .map(new SequenceLogger())
                .uid("sequence-logger")
                .name("log-sequence")
                .sinkTo(new DiscardingSink<>())
                .uid("discard")
                .name("discard");
    }

    static double parseRate(String[] args) {
        for (int i = 0; i < args.length - 1; i++) {
            if ("--rate".equals(args[i])) {
                double rate = Double.parseDouble(args[i + 1]);
                if (!(rate > 0)) {
                    throw new IllegalArgumentException("--rate must be positive, got " + args[i + 1]);
                }
                return rate;
            }
        }
        return DEFAULT_RATE;
    }

    /** Logs one line per record with the subtask and attempt that saw it, then passes it on. */
    static final class SequenceLogger extends RichMapFunction<Long, Long> {
        private static final long serialVersionUID = 1L;
        private static final Logger LOG = LoggerFactory.getLogger(HelloJob.class);

        private transient int subtask;
        private transient int attempt;

        @Override
        public void open(OpenContext openContext) {
            // The attempt number grows with every restart of this subtask, which lets the
            // verifier tell a replay after recovery from a duplicate within one attempt.
            TaskInfo task = getRuntimeContext().getTaskInfo();
            subtask = task.getIndexOfThisSubtask();
            attempt = task.getAttemptNumber();
        }

        @Override
        public Long map(Long seq) {
            LOG.info(SEQ_FORMAT, seq, subtask, attempt);
            return seq;
        }
    }
}
