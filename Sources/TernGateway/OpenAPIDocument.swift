/// `GET /openapi.json`: the OpenAPI 3.0 document of the gateway's routes (``GatewayRoutes``). Kept by hand next
/// to the routes; Tests/compat/test_gateway.py runs schemathesis against a live broker to hold the two together.
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.0.3",
      "info": {
        "title": "Tern HTTP gateway",
        "version": "1.0.0",
        "description": "Send and consume RocketMQ messages over HTTP. The gateway is a RocketMQ client of its own broker: flow control, limits, ACL and consumer-group offsets are a RocketMQ client's. Delivery is at-least-once: a received message stays invisible to the group for invisibleSeconds, then is delivered again unless acked; the group's committed offset advances over each queue's acknowledged prefix. With ACL on, send Authorization: Bearer <accessKey>:<Base64(HmacSHA1(secretKey, accessKey))>."
      },
      "paths": {
        "/topics/{topic}/messages": {
          "parameters": [\#(ref("parameters", "Topic"))],
          "post": {
            "operationId": "sendMessage",
            "summary": "Send one message",
            "description": "Content-Type application/json: the body is an Envelope. Any other type: the body is the message body byte for byte, attributes in X-Tern-* headers.",
            "parameters": [
              {"name": "X-Tern-Tags", "in": "header", "schema": {"type": "string"}},
              {"name": "X-Tern-Keys", "in": "header", "description": "Comma-separated message keys.", "schema": {"type": "string"}},
              {"name": "X-Tern-Delay-Level", "in": "header", "schema": {"type": "integer", "minimum": 0, "maximum": 18}},
              {"name": "X-Tern-Sharding-Key", "in": "header", "description": "Same key, same queue (ordered).", "schema": {"type": "string"}},
              {"name": "X-Tern-Properties", "in": "header", "description": "User properties: name=value pairs joined by &, percent-encoded; names [A-Za-z][A-Za-z0-9_.-]{0,63}, not a system property.", "schema": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_.-]{0,63}=[A-Za-z0-9._~-]*(&[A-Za-z][A-Za-z0-9_.-]{0,63}=[A-Za-z0-9._~-]*)*$"}}
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary", "minLength": 1}},
                "application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}
              }
            },
            "responses": {
              \#(ok("Stored", "SendResult")),
              \#(errors(400, 403, 404, 413, 429, 503))
            }
          },
          "get": {
            "operationId": "receiveMessages",
            "summary": "Receive messages (long poll)",
            "description": "Messages of the topic and the group's retries of it. Each carries a handle for ack or nack.",
            "parameters": [
              {"name": "group", "in": "query", "required": true, "schema": {"$ref": "#/components/schemas/GroupName"}},
              {"name": "max", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 64, "default": 16}},
              {"name": "wait", "in": "query", "description": "Seconds to wait for a first message.", "schema": {"type": "integer", "minimum": 0, "maximum": 30, "default": 0}},
              {"name": "invisibleSeconds", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 43200, "default": 30}}
            ],
            "responses": {
              \#(ok("Messages (possibly none)", "ReceiveResult")),
              \#(errors(400, 403, 404, 429, 503))
            }
          }
        },
        "/topics/{topic}/messages/batch": {
          "parameters": [\#(ref("parameters", "Topic"))],
          "post": {
            "operationId": "sendBatch",
            "summary": "Send a batch to one queue (consecutive offsets)",
            "requestBody": {
              "required": true,
              "content": {"application/json": {"schema": {"type": "array", "minItems": 1, "maxItems": 1024, "items": {"$ref": "#/components/schemas/Envelope"}}}}
            },
            "responses": {
              \#(ok("Stored", "BatchResult")),
              \#(errors(400, 403, 404, 413, 415, 429, 503))
            }
          }
        },
        \#(handlesOperation("ack", "ackMessages", "Acknowledge deliveries")),
        \#(handlesOperation("nack", "nackMessages", "Send deliveries back (retry topic, then DLQ after maxReconsumeTimes)")),
        "/openapi.json": {
          "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}}
          }
        }
      },
      "components": {
        "parameters": {
          "Topic": {"name": "topic", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/Name"}}
        },
        "responses": {
          "Error": {"description": "Refused; code is the RocketMQ response code behind it", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        },
        "schemas": {
          "Name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,127}$"},
          "GroupName": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,255}$"},
          "Text": {"type": "string", "pattern": "^[^\\u0001\\u0002]*$"},
          "Error": {
            "type": "object", "required": ["code", "error"],
            "properties": {"code": {"type": "integer"}, "error": {"type": "string"}}
          },
          "Envelope": {
            "type": "object",
            "description": "Exactly one of body (UTF-8 text) and bodyBase64.",
            "properties": {
              "body": {"type": "string", "minLength": 1},
              "bodyBase64": {"type": "string", "pattern": "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$"},
              "tags": {"$ref": "#/components/schemas/Text"},
              "keys": {"type": "array", "items": {"$ref": "#/components/schemas/Text"}},
              "properties": {
                "type": "object",
                "additionalProperties": {"$ref": "#/components/schemas/Text"},
                "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_.-]{0,63}$", "not": {"enum": ["KEYS", "TAGS", "UNIQ_KEY", "WAIT", "DELAY", "REAL_TOPIC", "REAL_QID", "TRAN_MSG", "PGROUP", "RETRY_TOPIC", "ORIGIN_MESSAGE_ID", "MAX_OFFSET", "MIN_OFFSET", "CLUSTER", "TIMER_DELIVER_MS", "TIMER_DELAY_SEC", "TIMER_DELAY_MS"]}}
              },
              "delayLevel": {"type": "integer", "minimum": 0, "maximum": 18},
              "shardingKey": {"type": "string"}
            },
            "oneOf": [{"required": ["body"]}, {"required": ["bodyBase64"]}]
          },
          "SendResult": {
            "type": "object", "required": ["msgId", "offsetMsgId", "queueId", "queueOffset", "status"],
            "properties": {
              "msgId": {"type": "string"}, "offsetMsgId": {"type": "string"},
              "queueId": {"type": "integer"}, "queueOffset": {"type": "integer"},
              "status": {"type": "string", "enum": ["SEND_OK", "FLUSH_DISK_TIMEOUT", "FLUSH_SLAVE_TIMEOUT", "SLAVE_NOT_AVAILABLE"]}
            }
          },
          "BatchResult": \#(listOf("messages", "SendResult")),
          "Message": {
            "type": "object",
            "required": ["handle", "msgId", "topic", "queueId", "queueOffset", "body", "bodyBase64", "keys", "properties", "reconsumeTimes", "bornTimestamp", "storeTimestamp"],
            "properties": {
              "handle": {"type": "string"}, "msgId": {"type": "string"}, "topic": {"type": "string"},
              "queueId": {"type": "integer"}, "queueOffset": {"type": "integer"},
              "body": {"type": "string"}, "bodyBase64": {"type": "string"},
              "tags": {"type": "string"}, "keys": {"type": "array", "items": {"type": "string"}},
              "properties": {"type": "object", "additionalProperties": {"type": "string"}},
              "reconsumeTimes": {"type": "integer"}, "bornTimestamp": {"type": "integer"}, "storeTimestamp": {"type": "integer"}
            }
          },
          "ReceiveResult": \#(listOf("messages", "Message")),
          "HandlesRequest": {
            "type": "object", "required": ["group", "handles"],
            "properties": {
              "group": {"$ref": "#/components/schemas/GroupName"},
              "handles": {"type": "array", "minItems": 1, "maxItems": 1024, "items": {"type": "string"}},
              "delayLevel": {"type": "integer", "minimum": -1, "maximum": 18, "description": "Nack: 0 = broker schedule, -1 = straight to the DLQ."},
              "maxReconsumeTimes": {"type": "integer", "minimum": 0, "maximum": 1000, "description": "Nack: deliveries before the DLQ (default: the group's retryMaxTimes)."}
            }
          },
          "HandleOutcome": {
            "type": "object", "required": ["handle", "ok"],
            "properties": {"handle": {"type": "string"}, "ok": {"type": "boolean"}, "error": {"type": "string"}}
          },
          "HandlesResult": \#(listOf("results", "HandleOutcome"))
        }
      }
    }
    """#

    // Blocks every operation repeats, built once each: the pieces are JSON text interpolated into the document.

    /// `{"$ref": "#/components/<section>/<name>"}`.
    private static func ref(_ section: String, _ name: String) -> String {
        ##"{"$ref": "#/components/\##(section)/\##(name)"}"##
    }

    /// The 200 answer: a JSON body of schema `schema`.
    private static func ok(_ description: String, _ schema: String) -> String {
        ##""200": {"description": "\##(description)", "content": {"application/json": {"schema": \##(ref("schemas", schema))}}}"##
    }

    /// The refusals a route can answer, each the shared JSON error.
    private static func errors(_ statuses: Int...) -> String {
        statuses.map { ##""\##($0)": \##(ref("responses", "Error"))"## }.joined(separator: ",\n")
    }

    /// An object with one required property: an array of `item`.
    private static func listOf(_ property: String, _ item: String) -> String {
        ##"{"type": "object", "required": ["\##(property)"], "properties": {"\##(property)": {"type": "array", "items": \##(ref("schemas", item))}}}"##
    }

    /// `POST /topics/{topic}/messages/<verb>` taking handles (ack, nack): same request and answer shapes.
    private static func handlesOperation(_ verb: String, _ operationId: String, _ summary: String) -> String {
        ##"""
        "/topics/{topic}/messages/\##(verb)": {
          "parameters": [\##(ref("parameters", "Topic"))],
          "post": {
            "operationId": "\##(operationId)",
            "summary": "\##(summary)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": \##(ref("schemas", "HandlesRequest"))}}},
            "responses": {
              \##(ok("Per-handle outcome", "HandlesResult")),
              \##(errors(400, 403, 413, 503))
            }
          }
        }
        """##
    }
}
