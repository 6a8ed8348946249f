package dev.pauser.cli;

import dev.pauser.agent.store.CheckpointException;
import dev.pauser.agent.store.CheckpointReader;
import dev.pauser.agent.store.CheckpointSummary;
import dev.pauser.agent.store.Manifest;
import dev.pauser.agent.store.Visible;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Show a checkpoint: its step, age, origin and a table of its fields (key, type, shape, size).",
            "Given a checkpoint directory (dir=, default ./pauser), shows every checkpoint in it, newest first.",
            "Reads the manifests only; use verify to check the data.",
            "Exit status 0 when every manifest reads, 6 when one does not (its problem is the error line)."})
final class InspectCommand extends CheckpointFilesCommand {
    @Override
    public Integer call() {
        List<Path> checkpoints = Checkpoints.resolve(path);
        StringBuilder text = new StringBuilder();
        List<Object> json = new ArrayList<>();
        String firstProblem = null;
        for (Path dir : checkpoints) {
            CheckpointSummary s;
            try {
                s = CheckpointReader.inspect(dir);
            } catch (CheckpointException e) {
                text.append("checkpoint ").append(Visible.of(dir.toString())).append(": unreadable: ")
                        .append(Visible.of(e.getMessage())).append("\n\n");
                json.add(Output.object("dir", dir.toString(), "error", e.getMessage()));
                if (firstProblem == null) {
                    firstProblem = e.getMessage();
                }
                continue;
            }
            text.append(s.render()).append('\n');
            List<Object> fields = new ArrayList<>();
            for (Manifest.Field f : s.manifest().fields()) {
                fields.add(Output.object("key", f.key(), "javaType", f.javaType(),
                        "dtype", f.kind() == Manifest.Kind.TENSOR ? f.dtype().safetensorsName() : "json",
                        "shape", f.shape(), "bytes", f.byteLength(), "declaringClass", f.declaringClass()));
            }
            Map<String, Object> one = Output.object("dir", dir.toString(), "step", s.manifest().step(),
                    "wallTime", s.manifest().wallTime().toString(), "ageSeconds", s.age().getSeconds(),
                    "bytes", s.totalBytes(), "info", s.manifest().info(), "fields", fields);
            json.add(one);
        }
        out.print(json, text.toString().stripTrailing());
        if (firstProblem != null) {
            // as verify: scripts must not take an unreadable checkpoint for a good one
            throw new CliException(ExitCodes.CORRUPT, firstProblem);
        }
        return ExitCodes.OK;
    }
}
