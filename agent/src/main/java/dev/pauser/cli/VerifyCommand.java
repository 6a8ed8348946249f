package dev.pauser.cli;

import dev.pauser.agent.store.CheckpointReader;
import dev.pauser.agent.store.VerifyReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Check every CRC32C of a checkpoint, and that its files agree with its manifest.",
            "Given a checkpoint directory, verifies every checkpoint in it.",
            "Exit status 0 when all verify, 6 when one does not (its first problem is the error line)."})
final class VerifyCommand extends CheckpointFilesCommand {
    @Override
    public Integer call() {
        List<Path> checkpoints = Checkpoints.resolve(path);
        StringBuilder text = new StringBuilder();
        List<Object> json = new ArrayList<>();
        String firstProblem = null;
        for (Path dir : checkpoints) {
            VerifyReport r = CheckpointReader.verify(dir);
            text.append(r.render());
            List<Object> fields = new ArrayList<>();
            for (VerifyReport.FieldResult f : r.fields()) {
                fields.add(Output.object("key", f.key(), "bytes", f.bytes(), "ok", f.ok(),
                        "problem", f.problem() == null ? "" : f.problem()));
            }
            json.add(Output.object("dir", dir.toString(), "step", r.step(), "ok", r.ok(), "problems", r.problems(),
                    "fields", fields));
            if (!r.ok() && firstProblem == null) {
                firstProblem = r.problems().get(0);
            }
        }
        out.print(json, text.toString().stripTrailing());
        if (firstProblem != null) {
            throw new CliException(ExitCodes.CORRUPT, firstProblem);
        }
        return ExitCodes.OK;
    }
}
