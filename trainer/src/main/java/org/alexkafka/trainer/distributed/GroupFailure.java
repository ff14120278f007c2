package org.alexkafka.trainer.distributed;

/**
 * The data-parallel group broke: a rank died, was stopped, or did not answer within the group's
 * timeout. The run cannot go on with fewer ranks; restart all of them, and they resume from the
 * last checkpoint rank 0 wrote.
 */
public final class GroupFailure extends RuntimeException {

  public GroupFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
