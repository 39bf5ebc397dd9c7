package io.chat4all.node.authz;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import io.chat4all.node.api.Api;
import io.chat4all.proto.v1.AbortUploadRequest;
import io.chat4all.proto.v1.AddConversationMembersRequest;
import io.chat4all.proto.v1.CompleteUploadRequest;
import io.chat4all.proto.v1.DeleteMessageRequest;
import io.chat4all.proto.v1.EditMessageRequest;
import io.chat4all.proto.v1.GetConversationRequest;
import io.chat4all.proto.v1.GetDownloadUrlRequest;
import io.chat4all.proto.v1.GetFileRequest;
import io.chat4all.proto.v1.GetMessageRequest;
import io.chat4all.proto.v1.InitiateUploadRequest;
import io.chat4all.proto.v1.LeaveConversationRequest;
import io.chat4all.proto.v1.ListMessagesRequest;
import io.chat4all.proto.v1.MarkMessageRequest;
import io.chat4all.proto.v1.MessagePayload;
import io.chat4all.proto.v1.RemoveConversationMemberRequest;
import io.chat4all.proto.v1.SendMessageRequest;
import io.chat4all.proto.v1.SetConversationMemberRoleRequest;
import io.chat4all.proto.v1.UploadRequest;
import io.chat4all.proto.v1.UploadStart;
import io.vertx.grpc.common.ServiceMethod;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;
import org.assertj.core.api.SoftAssertions;

/**
 * The gRPC matrix: every method of the protos, with its request and the documented status of each
 * role (owner/author, other member, outsider, admin) as "STATUS" or "STATUS code".
 */
final class GrpcRows {
  private GrpcRows() {}

  record Row(String method, boolean fresh, Function<Fixture, Message> req, String[] expect) {}

  /** Methods anyone may call without a token. */
  static final Set<String> PUBLIC =
      Set.of(
          "chat4all.v1.NodeService/Ping",
          "chat4all.v1.AuthService/Register",
          "chat4all.v1.AuthService/Token",
          "chat4all.v1.AuthService/Refresh");

  static final String CONV = "chat4all.v1.ConversationService/";
  static final String MSG = "chat4all.v1.MessageService/";
  static final String FILE = "chat4all.v1.FileService/";

  static List<Row> rows() {
    List<Row> r = new ArrayList<>();
    r.add(
        row(
            CONV + "GetConversation",
            f -> GetConversationRequest.newBuilder().setConversationId(f.conv()).build(),
            "OK",
            "OK",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        fresh(
            CONV + "AddMembers",
            f ->
                AddConversationMembersRequest.newBuilder()
                    .setConversationId(f.conv())
                    .addMemberIds(f.w.newcomer().id())
                    .build(),
            "OK",
            "PERMISSION_DENIED",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        fresh(
            CONV + "RemoveMember",
            f ->
                RemoveConversationMemberRequest.newBuilder()
                    .setConversationId(f.conv())
                    .setUserId(f.w.extra().id())
                    .build(),
            "OK",
            "PERMISSION_DENIED",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        fresh(
            CONV + "SetMemberRole",
            f ->
                SetConversationMemberRoleRequest.newBuilder()
                    .setConversationId(f.conv())
                    .setUserId(f.w.extra().id())
                    .setRole("admin")
                    .build(),
            "OK",
            "PERMISSION_DENIED",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        fresh(
            CONV + "LeaveConversation",
            f -> LeaveConversationRequest.newBuilder().setConversationId(f.conv()).build(),
            "OK",
            "OK",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        row(
            MSG + "SendMessage",
            f ->
                SendMessageRequest.newBuilder()
                    .setConversationId(f.conv())
                    .setMessageId(UUID.randomUUID().toString())
                    .setPayload(MessagePayload.newBuilder().setType("text").setText("hi"))
                    .build(),
            "OK",
            "OK",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        row(
            MSG + "GetMessage",
            f -> GetMessageRequest.newBuilder().setMessageId(f.msg()).build(),
            "OK",
            "OK",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        row(
            MSG + "ListMessages",
            f -> ListMessagesRequest.newBuilder().setConversationId(f.conv()).build(),
            "OK",
            "OK",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        row(
            MSG + "MarkDelivered",
            f -> MarkMessageRequest.newBuilder().setMessageId(f.msg()).build(),
            "ALREADY_EXISTS conflict",
            "OK",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        row(
            MSG + "MarkRead",
            f -> MarkMessageRequest.newBuilder().setMessageId(f.msg()).build(),
            "ALREADY_EXISTS conflict",
            "OK",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        row(
            MSG + "EditMessage",
            f -> EditMessageRequest.newBuilder().setMessageId(f.msg()).setText("edited").build(),
            "OK",
            "PERMISSION_DENIED",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        fresh(
            MSG + "DeleteMessage",
            f -> DeleteMessageRequest.newBuilder().setMessageId(f.msg()).build(),
            "OK",
            "PERMISSION_DENIED",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        row(
            FILE + "InitiateUpload",
            f ->
                InitiateUploadRequest.newBuilder()
                    .setFilename("matrix.txt")
                    .setSizeBytes(Fixture.CONTENT.length)
                    .setMimeType("text/plain")
                    .setChecksumSha256(Fixture.CONTENT_SHA)
                    .setConversationId(f.conv())
                    .build(),
            "OK",
            "OK",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        row(
            FILE + "GetFile",
            f -> GetFileRequest.newBuilder().setFileId(f.file()).build(),
            "OK",
            "OK",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        row(
            FILE + "GetDownloadUrl",
            f -> GetDownloadUrlRequest.newBuilder().setFileId(f.file()).build(),
            "OK",
            "OK",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        fresh(
            FILE + "Upload",
            f ->
                UploadRequest.newBuilder()
                    .setStart(UploadStart.newBuilder().setFileId(f.upload()))
                    .build(),
            "OK",
            "NOT_FOUND",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        fresh(
            FILE + "CompleteUpload",
            f -> CompleteUploadRequest.newBuilder().setFileId(f.staged()).build(),
            "OK",
            "NOT_FOUND",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        fresh(
            FILE + "AbortUpload",
            f -> AbortUploadRequest.newBuilder().setFileId(f.upload()).build(),
            "OK",
            "NOT_FOUND",
            "NOT_FOUND",
            "NOT_FOUND"));
    r.add(
        row(
            "chat4all.v1.RealtimeService/SendTyping",
            f ->
                io.chat4all.proto.v1.TypingRequest.newBuilder().setConversationId(f.conv()).build(),
            "OK",
            "OK",
            "NOT_FOUND",
            "NOT_FOUND"));
    // Subscribe streams until cancelled: only its refusals are asked here
    for (String m :
        List.of(
            "chat4all.v1.RealtimeService/Subscribe",
            "chat4all.v1.RealtimeService/Heartbeat",
            "chat4all.v1.RealtimeService/GetPresence",
            "chat4all.v1.AuthService/Logout",
            "chat4all.v1.AuthService/Me",
            "chat4all.v1.AuthService/GetUser",
            CONV + "CreateConversation",
            CONV + "ListConversations",
            MSG + "Sync")) {
      r.add(new Row(m, false, f -> defaultRequest(m), null));
    }
    return r;
  }

  private static Row row(String m, Function<Fixture, Message> req, String... expect) {
    return new Row(m, false, req, expect);
  }

  private static Row fresh(String m, Function<Fixture, Message> req, String... expect) {
    return new Row(m, true, req, expect);
  }

  private static final List<Descriptors.FileDescriptor> PROTOS = protos();

  /**
   * The descriptors of every {@code chat4all/v1/*.proto} on the class path (the proto module ships
   * its sources), so a new proto file is part of the matrix without being named here.
   */
  private static List<Descriptors.FileDescriptor> protos() {
    List<Descriptors.FileDescriptor> all = new ArrayList<>();
    try {
      java.net.URL dir = GrpcRows.class.getClassLoader().getResource("chat4all/v1/node.proto");
      if (dir == null) {
        throw new AssertionError("chat4all/v1/*.proto not on the class path");
      }
      List<String> sources = new ArrayList<>();
      if ("jar".equals(dir.getProtocol())) {
        java.net.JarURLConnection c = (java.net.JarURLConnection) dir.openConnection();
        try (java.util.jar.JarFile jar = c.getJarFile()) {
          for (java.util.jar.JarEntry e : java.util.Collections.list(jar.entries())) {
            if (e.getName().startsWith("chat4all/v1/") && e.getName().endsWith(".proto")) {
              sources.add(new String(jar.getInputStream(e).readAllBytes(), StandardCharsets.UTF_8));
            }
          }
        }
      } else {
        try (var files = java.nio.file.Files.list(java.nio.file.Path.of(dir.toURI()).getParent())) {
          for (java.nio.file.Path f : files.filter(f -> f.toString().endsWith(".proto")).toList()) {
            sources.add(java.nio.file.Files.readString(f));
          }
        }
      }
      java.util.regex.Pattern outer =
          java.util.regex.Pattern.compile("java_outer_classname\\s*=\\s*\"(\\w+)\"");
      for (String source : sources) {
        java.util.regex.Matcher m = outer.matcher(source);
        if (!m.find()) {
          throw new AssertionError("a proto without java_outer_classname");
        }
        all.add(
            (Descriptors.FileDescriptor)
                Class.forName("io.chat4all.proto.v1." + m.group(1))
                    .getMethod("getDescriptor")
                    .invoke(null));
      }
    } catch (Exception e) {
      throw new AssertionError("reading the protos", e);
    }
    return all;
  }

  /** Every method of every service in the protos, as {@code package.Service/Method}. */
  static Set<String> served() {
    Set<String> all = new TreeSet<>();
    for (Descriptors.FileDescriptor file : PROTOS) {
      for (Descriptors.ServiceDescriptor s : file.getServices()) {
        s.getMethods().forEach(m -> all.add(s.getFullName() + "/" + m.getName()));
      }
    }
    return all;
  }

  private static Descriptors.MethodDescriptor descriptor(String fullName) {
    String[] p = fullName.split("/");
    for (Descriptors.FileDescriptor file : PROTOS) {
      for (Descriptors.ServiceDescriptor s : file.getServices()) {
        if (s.getFullName().equals(p[0])) {
          return s.findMethodByName(p[1]);
        }
      }
    }
    throw new AssertionError("no method " + fullName);
  }

  private static Message defaultRequest(String fullName) {
    String type = descriptor(fullName).getInputType().getName();
    try {
      return (Message)
          Class.forName("io.chat4all.proto.v1." + type)
              .getMethod("getDefaultInstance")
              .invoke(null);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  /** The generated client's method ({@code <Service>GrpcClient.<Method>}). */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static ServiceMethod<Message, Message> method(String fullName) {
    String[] p = fullName.split("/");
    String service = p[0].substring(p[0].lastIndexOf('.') + 1);
    try {
      return (ServiceMethod)
          Class.forName("io.chat4all.proto.v1." + service + "GrpcClient").getField(p[1]).get(null);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  static Api.GrpcRes<Message> call(Api api, Row row, Fixture f, String token) {
    return api.grpc(method(row.method()), row.req().apply(f), token);
  }

  static void check(
      SoftAssertions soft, String what, Api.GrpcRes<?> res, String status, String code) {
    soft.assertThat(res.status().name())
        .as("%s: status (%s)", what, res.message())
        .isEqualTo(status);
    if (!"OK".equals(status) && status.equals(res.status().name())) {
      String expected =
          code != null
              ? code
              : switch (status) {
                case "NOT_FOUND" -> "not_found";
                case "PERMISSION_DENIED" -> "forbidden";
                default -> null;
              };
      soft.assertThat(res.errorCode())
          .as("%s: chat4all-error-code (%s)", what, res.message())
          .isEqualTo(expected);
      soft.assertThat(res.message()).as("%s: status message", what).startsWith(expected + ": ");
    }
  }
}
