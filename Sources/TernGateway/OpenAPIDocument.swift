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
          "parameters": [{"$ref": "#/components/parameters/Topic"}],
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
              "200": {"description": "Stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SendResult"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
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
              "200": {"description": "Messages (possibly none)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReceiveResult"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/topics/{topic}/messages/batch": {
          "parameters": [{"$ref": "#/components/parameters/Topic"}],
          "post": {
            "operationId": "sendBatch",
            "summary": "Send a batch to one queue (consecutive offsets)",
            "requestBody": {
              "required": true,
              "content": {"application/json": {"schema": {"type": "array", "minItems": 1, "maxItems": 1024, "items": {"$ref": "#/components/schemas/Envelope"}}}}
            },
            "responses": {
              "200": {"description": "Stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchResult"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"},
              "415": {"$ref": "#/components/responses/Error"},
              "429": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/topics/{topic}/messages/ack": {
          "parameters": [{"$ref": "#/components/parameters/Topic"}],
          "post": {
            "operationId": "ackMessages",
            "summary": "Acknowledge deliveries",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HandlesRequest"}}}},
            "responses": {
              "200": {"description": "Per-handle outcome", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HandlesResult"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/topics/{topic}/messages/nack": {
          "parameters": [{"$ref": "#/components/parameters/Topic"}],
          "post": {
            "operationId": "nackMessages",
            "summary": "Send deliveries back (retry topic, then DLQ after maxReconsumeTimes)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HandlesRequest"}}}},
            "responses": {
              "200": {"description": "Per-handle outcome", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HandlesResult"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
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
          "BatchResult": {
            "type": "object", "required": ["messages"],
            "properties": {"messages": {"type": "array", "items": {"$ref": "#/components/schemas/SendResult"}}}
          },
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
          "ReceiveResult": {
            "type": "object", "required": ["messages"],
            "properties": {"messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}}
          },
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
          "HandlesResult": {
            "type": "object", "required": ["results"],
            "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/HandleOutcome"}}}
          }
        }
      }
    }
    """#
}
