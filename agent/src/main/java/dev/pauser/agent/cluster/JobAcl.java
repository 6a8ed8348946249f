package dev.pauser.agent.cluster;

import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.List;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

/** ZooKeeper ACLs for the job's nodes when a digest user is given: every right for that user, none for anyone else. */
final class JobAcl implements ACLProvider {
    private final List<ACL> acl;

    JobAcl(String userColonPassword) {
        try {
            // not List.of: ZooKeeper asks the list whether it contains null, which List.of answers with an exception
            acl = Collections.singletonList(new ACL(ZooDefs.Perms.ALL,
                    new Id("digest", DigestAuthenticationProvider.generateDigest(userColonPassword))));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-1 for ZooKeeper's digest ACLs: " + e, e);
        }
    }

    @Override
    public List<ACL> getDefaultAcl() {
        return acl;
    }

    @Override
    public List<ACL> getAclForPath(String path) {
        return acl;
    }
}
