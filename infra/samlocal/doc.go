// Package samlocal runs the SAM CLI's local commands on a real container
// engine, as a user with Docker would, on a Linux machine that has no
// registry and no Docker: Debian's rootful podman serving a
// Docker-compatible socket (DOCKER_HOST), with the project's
// containers.conf (named by CONTAINERS_CONF; /etc is left alone). Its
// tests (make sam-local) run sam build on template.yaml, sam local invoke
// on every function with each of its sample events, and sam local
// start-api through the template's own authorizer.
//
// What it sets up, and Engine.Close removes again (docs/deploying.md):
//   - the podman service, in this run's scratch folder;
//   - a network of the run's own (NetworkName, bridge sg-samlocal0), every
//     container's, defined in the run's folder under /run: the bridge,
//     and the iptables rules and chains CNI's port forwarding makes for
//     each container, are the run's by name and container id, and only
//     those are removed;
//   - arm64: the template's architecture runs under qemu-user-static,
//     registered with binfmt_misc (flag F) unless the machine already has
//     such an entry; the functions are built exactly as they deploy;
//   - StandIn, a stand-in for AWS's provided.al2023 base image, imported
//     from a small file system (no registry to pull from), passed with
//     --invoke-image and --skip-pull-image; the SAM CLI adds its own
//     emulator to it. The images stay, as a cache;
//   - loopback in each Lambda container (forward.go): the functions reach
//     the test's issuer, directory and DynamoDB server at the same
//     127.0.0.1 URLs as the test, which listen on the host's loopback
//     only.
//
// Each of these is written down before it is made (state.go), so a run
// that ends without tearing down (killed, timed out, panicked) is torn
// down by the next run's Start.
package samlocal
